// A field path as people read it: `routes[0].to`, "(top level)" for the root. Used for every
// validation message (config, snapshots, command arguments, API answers) so they name the field
// the same way.
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(top level)';
}
