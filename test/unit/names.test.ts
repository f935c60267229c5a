import { describe, expect, it } from 'vitest';
import { emailKey, nameKey, parseDepartmentName } from '../../src/core/names.js';

describe('nameKey: the one form names and emails are compared in', () => {
  it('folds case fully, width and compatibility forms, and composition', () => {
    expect(nameKey('Straße')).toBe('strasse');
    expect(nameKey('ﬁnance')).toBe('finance');
    expect(nameKey('Ｓａｌｅｓ')).toBe('sales');
    expect(nameKey('E\u0301quipe')).toBe(nameKey('équipe'));
    expect(nameKey('ÉQUIPE')).toBe('équipe');
    expect(nameKey('ΣΑΣ')).toBe(nameKey('σας'));
  });

  it('trims and reads inner runs of white space as one space, ideographic space included', () => {
    expect(nameKey('  R&D \u3000\t Lab ')).toBe('r&d lab');
  });

  it('keeps accents: équipe and equipe are different names', () => {
    expect(nameKey('équipe')).not.toBe(nameKey('equipe'));
  });

  it('compares emails the same way', () => {
    expect(emailKey('Anna@Example.com')).toBe(emailKey('ａｎｎａ@example.com'));
  });

  it('reserves org and world in every spelling', () => {
    expect(() => parseDepartmentName('ＯＲＧ')).toThrow(/reserved/);
    expect(() => parseDepartmentName('World')).toThrow(/reserved/);
  });
});
