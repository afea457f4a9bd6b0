import {readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {renderTemplate} from '../../../src/fleet/template.js'

const dir = fileURLToPath(new URL('../../../templates/cloud-init/', import.meta.url))
const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt1pHzVEbF9D0wq8o0xSWc8Yw5bN7o3f8tD0kqZ7x9a'
const vars = {fleet: 'acme', name: 'web-1', pool: 'ci', domain: 'git.acme.dev', user: 'deploy', port: 2222, public_key: key}

describe('renderTemplate', () => {
  it.each([
    ['substitutes every placeholder', 'hostname: {{name}}\nport: {{ port }}\n', 'hostname: web-1\nport: 2222\n'],
    ['leaves other braces alone', 'a: {b: 1}\nc: "{{name}}}"\n', 'a: {b: 1}\nc: "web-1}"\n'],
    ['repeats', '{{name}}-{{name}}', 'web-1-web-1'],
  ])('%s', (_name, text, out) => {
    expect(renderTemplate(text, vars, 't.yaml')).toBe(out)
  })

  it('refuses a placeholder it does not set, naming the template and what it does set', () => {
    expect(() => renderTemplate('{{nmae}} {{port}} {{bogus}}', vars, 'templates/cloud-init/host.yaml'))
      .toThrow('templates/cloud-init/host.yaml uses {{nmae}}, {{bogus}}, which fleet does not set')
  })
})

describe('the shipped cloud-init templates', () => {
  const files = readdirSync(dir).filter(f => f.endsWith('.yaml'))
  it('are host.yaml, runner.yaml and forgejo.yaml', () => {
    expect(files.sort()).toEqual(['forgejo.yaml', 'host.yaml', 'runner.yaml'])
  })

  it.each(files)('%s renders to valid #cloud-config that authorizes the key for the user and moves sshd to the port', file => {
    const text = renderTemplate(readFileSync(dir + file, 'utf8'), vars, file)
    expect(text.startsWith('#cloud-config\n')).toBe(true)
    const doc = parse(text)
    const user = doc.users.find((u: {name?: string}) => u.name === 'deploy')
    expect(user.ssh_authorized_keys).toEqual([key])
    expect(doc.write_files.find((f: {path: string}) => f.path.includes('sshd_config.d')).content).toContain('Port 2222\n')
    if (file !== 'runner.yaml') expect(doc.hostname).toBe('web-1')
  })
})
