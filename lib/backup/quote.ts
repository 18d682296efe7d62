// SQL quoting for the statements Vaultline writes itself (names and values it read from a
// catalogue, never user input parsed into SQL).

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
