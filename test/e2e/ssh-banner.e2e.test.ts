import {createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {TransportError} from '../../src/errors.js'
import {waitForSshBanner} from '../../src/transport/banner.js'
import {useSshHosts} from '../helpers/sshd.js'

const testbed = useSshHosts({count: 1})
const servers: Server[] = []
const sockets: Socket[] = []
const close = (s: Server) => new Promise(resolve => s.close(resolve))
afterEach(async () => {
  for (const sock of sockets.splice(0)) sock.destroy()
  await Promise.all(servers.splice(0).map(close))
})

async function listen(onConnection: (sock: Socket) => void): Promise<number> {
  const server = createServer(sock => {
    sockets.push(sock)
    onConnection(sock)
  })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

describe('waitForSshBanner', () => {
  it('returns the identification line of a real sshd', async () => {
    const h = testbed().hosts[0]
    expect(await waitForSshBanner('host1', h.address, h.port, {timeoutMs: 5000})).toMatch(/^SSH-2\.0-OpenSSH/)
  })

  it('skips lines a server sends before its identification line, and waits for a server that starts late', async () => {
    let tries = 0
    const port = await listen(sock => (++tries < 3 ? sock.destroy() : sock.write('hello\r\nSSH-2.0-late_1.0\r\n')))
    expect(await waitForSshBanner('late', '127.0.0.1', port, {timeoutMs: 5000, intervalMs: 50})).toBe('SSH-2.0-late_1.0')
    expect(tries).toBe(3)
  })

  it.each([
    ['a port that accepts but never speaks', (sock: Socket) => void sock, /^silent: sshd not answering at 127\.0\.0\.1:\d+ within 1s \(timed out\)$/],
    ['a server that is not sshd', (sock: Socket) => void sock.end('HTTP/1.1 400 Bad Request\r\n\r\n'), /^silent: sshd not answering at 127\.0\.0\.1:\d+ within 1s \(closed without an SSH banner\)$/],
  ])('gives up on %s with SSH_TIMEOUT', async (_name, behave, message) => {
    const port = await listen(behave)
    const error = await waitForSshBanner('silent', '127.0.0.1', port, {timeoutMs: 1000, intervalMs: 100}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransportError)
    expect((error as TransportError).code).toBe('SSH_TIMEOUT')
    expect((error as Error).message).toMatch(message)
  })

  it('says connection refused when nothing listens', async () => {
    const port = await listen(() => {})
    await close(servers.pop()!)
    await expect(waitForSshBanner('gone', '127.0.0.1', port, {timeoutMs: 300, intervalMs: 100})).rejects.toThrow(/\(connection refused\)$/)
  })
})
