export function shellQuote(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ')
}

export function remoteCommand(argv: readonly string[], cwd?: string): string {
  const command = shellQuote(argv)
  return cwd ? `cd ${quoteDir(cwd)} && ${command}` : command
}

function quoteArg(arg: string): string {
  return /^[\w@%+:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`
}

function quoteDir(dir: string): string {
  if (dir === '~') return '~'
  return dir.startsWith('~/') ? `~/${quoteArg(dir.slice(2))}` : quoteArg(dir)
}
