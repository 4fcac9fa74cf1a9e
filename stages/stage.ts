/**
 * The contract every stage follows: a stage turns one input into zero or more outputs, and its
 * input and output types document the pipeline (see stages/types.ts for the data that flows).
 * A stage holds no queue and no retry policy: the runtime that drives it does.
 */
export interface Stage<In, Out> {
  readonly name: string;
  /** Turns one input into its outputs. A throw rejects this input alone, never the stream. */
  process(input: In, context: StageContext): AsyncIterable<Out>;
}

/** Where a pipeline's inputs come from: a source produces items until it ends or is aborted. */
export interface Source<Out> {
  readonly name: string;
  run(context: StageContext): AsyncIterable<Out>;
}

/** What a stage may use besides its input; passed in, so tests swap it without mocking modules. */
export interface StageContext {
  readonly log: StageLogger;
  /** Aborted when the pipeline shuts down: long work should stop at the next safe point. */
  readonly signal: AbortSignal;
}

/** The part of pino's logger the stages use (a pino logger is one). */
export interface StageLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** An input that a stage rejected, with the stage's name: what a dead-letter record is made of. */
export class StageError extends Error {
  override readonly name = 'StageError';
  constructor(
    readonly stage: string,
    override readonly cause: unknown,
  ) {
    super(`stage ${stage}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * A failure of what a stage runs on (a worker thread that died), not of its input: the pipelines
 * never make a dead letter of it, but fail the input so that a restart tries it again.
 */
export class StageUnavailableError extends Error {
  override readonly name = 'StageUnavailableError';
}

/** Whether a stage's failure says the input is bad, rather than the stage or what it depends on. */
export function isBadInput(error: unknown, isTransient: (cause: unknown) => boolean): error is StageError {
  return error instanceof StageError && !isTransient(error.cause) && !(error.cause instanceof StageUnavailableError);
}

/** Runs `first` then `second` on each of its outputs, as one stage named "first | second". */
export function pipe<A, B, C>(first: Stage<A, B>, second: Stage<B, C>): Stage<A, C> {
  return {
    name: `${first.name} | ${second.name}`,
    async *process(input, context) {
      for await (const middle of attributed(first, input, context)) yield* attributed(second, middle, context);
    },
  };
}

/** The stage's outputs for one input, with any failure wrapped in a StageError naming the stage. */
export async function* attributed<In, Out>(stage: Stage<In, Out>, input: In, context: StageContext): AsyncIterable<Out> {
  try {
    yield* stage.process(input, context);
  } catch (error) {
    throw error instanceof StageError ? error : new StageError(stage.name, error);
  }
}

/** A logger that drops everything, for tools and tests that want quiet stages. */
export const silentLogger: StageLogger = { debug() {}, info() {}, warn() {}, error() {} };
