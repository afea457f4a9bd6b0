import {UsageError} from '../errors.js'

/**
 * `{{var}}` substitution and nothing else: templates carry no logic. A placeholder the caller does not set is an
 * error, so a typo never reaches a machine as literal braces.
 */
export function renderTemplate(text: string, vars: Record<string, string | number>, name = 'template'): string {
  const unknown = new Set<string>()
  const out = text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, key: string) => {
    if (!(key in vars)) {
      unknown.add(key)
      return ''
    }
    return String(vars[key])
  })
  if (unknown.size > 0) {
    throw new UsageError(`${name} uses ${[...unknown].map(k => `{{${k}}}`).join(', ')}, which fleet does not set`, `use only ${Object.keys(vars).map(k => `{{${k}}}`).join(', ')}`)
  }
  return out
}
