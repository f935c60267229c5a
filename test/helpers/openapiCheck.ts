import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * Checks an answer of `credits serve` against its own GET /openapi.json: the route and method
 * must be described, the status must be one of the operation's responses (or its 4XX/5XX/default),
 * and a JSON body must match that response's schema. The API tests run every answer through it.
 */
export type AnswerCheck = (method: string, path: string, status: number, contentType: string | null, body: unknown) => void;

type Operation = { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type Document = { paths: Record<string, Record<string, Operation>>; components?: unknown };

function pathPattern(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

export function openApiAnswerCheck(document: Document | unknown): AnswerCheck {
  const doc = document as Document;
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const routes = Object.entries(doc.paths).map(([template, item]) => ({ template, pattern: pathPattern(template), item }));
  const compiled = new Map<string, ValidateFunction>();
  const validatorFor = (key: string, schema: unknown): ValidateFunction => {
    let validate = compiled.get(key);
    if (!validate) {
      // The components travel with each response schema so that its #/components/... refs resolve.
      validate = ajv.compile({ ...(schema as object), components: doc.components });
      compiled.set(key, validate);
    }
    return validate;
  };
  return (method, rawPath, status, contentType, body) => {
    const path = rawPath.split('?')[0]!;
    // A literal path (/v1/holds) wins over a template that also matches it (/v1/{x}).
    const route = routes.find((entry) => entry.template === path) ?? routes.find((entry) => entry.pattern.test(path));
    if (!route && status === 404) return; // a path no route serves: not found is the documented answer
    if (!route) throw new Error(`${method} ${path} answered ${status} but /openapi.json does not describe ${path}`);
    const operation = route.item[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${path} answered ${status} but /openapi.json has no ${method} for ${route.template}`);
    const responses = operation.responses ?? {};
    const statusKey = [String(status), `${String(status)[0]}XX`, 'default'].find((key) => responses[key] !== undefined);
    if (!statusKey) throw new Error(`${method} ${route.template} answered ${status}, which /openapi.json does not list (${Object.keys(responses).join(', ')})`);
    const media = (contentType ?? '').split(';')[0]!.trim();
    if (media !== 'application/json') return;
    const schema = responses[statusKey]!.content?.['application/json']?.schema;
    if (schema === undefined) throw new Error(`${method} ${route.template} answered ${status} with JSON, but /openapi.json gives no JSON schema for it`);
    const validate = validatorFor(`${method} ${route.template} ${statusKey}`, schema);
    if (!validate(body)) {
      throw new Error(`${method} ${path} answered ${status} with a body that /openapi.json does not allow: ${ajv.errorsText(validate.errors)}`);
    }
  };
}
