import {Listr, ListrLogger, ProcessOutput, type ListrTask} from 'listr2'

export type OutputMode = 'tty' | 'plain' | 'json'

/**
 * Every Listr is built here: live in a terminal, plain lines in CI or a pipe, silent with --json.
 * All progress goes to stderr so stdout carries only the result.
 */
export async function runTasks<C extends object>(tasks: ListrTask<C>[], ctx: C, opts: {mode: OutputMode; concurrency: number}): Promise<{ctx: C; errors: Error[]}> {
  const processOutput = new ProcessOutput(process.stderr, process.stderr)
  const logger = new ListrLogger({processOutput, useIcons: opts.mode === 'tty'})
  const list = new Listr<C>(tasks, {
    ctx,
    concurrent: opts.concurrency,
    exitOnError: false,
    collectErrors: 'minimal',
    registerSignalListeners: false,
    renderer: (opts.mode === 'json' ? 'silent' : opts.mode === 'tty' ? 'default' : 'simple') as 'default',
    fallbackRenderer: 'simple',
    rendererOptions: {logger, collapseSubtasks: false, persistentOutput: true, outputBar: 3} as never,
    fallbackRendererOptions: {logger} as never,
  })
  await list.run()
  return {ctx, errors: list.errors.map(e => e.error)}
}
