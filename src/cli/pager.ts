import { spawn } from 'node:child_process';

/** The pager a terminal's long output goes through: $PAGER, else `less -FRX`; none for '' or cat. */
export function pagerCommand(env: NodeJS.ProcessEnv): string | undefined {
  const chosen = env.PAGER?.trim() ?? 'less -FRX';
  return chosen === '' || chosen === 'cat' ? undefined : chosen;
}

/**
 * Shows `text` through the pager and waits until the reader quits it. Returns false when the
 * pager could not run (not installed: the shell's 127), so the caller prints the text itself.
 */
export function showInPager(command: string, text: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    // LESS=FRX: quit when it fits one screen, keep the colours, leave the text on the screen.
    const child = spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: { LESS: 'FRX', ...env } });
    child.on('error', () => resolve(false));
    // A reader who quits before the end closes the pipe: that is no error.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolve(code !== 127));
    child.stdin.end(text);
  });
}
