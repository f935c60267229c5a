/** Shell scripts go out byte for byte: no colour, no table, nothing around them. */
export const shellViews = {
  completionScript: (data: { shell: string; script: string }): string => data.script,
};
