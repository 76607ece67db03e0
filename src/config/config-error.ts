// A configuration mistake, named by the variable to fix; the CLI prints it without a stack.
// loadConfig reports every mistake of an environment at once (ConfigErrors), so that a first
// production start says everything that is missing, not one variable per attempt.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }

  /** Each mistake, one per variable: this one alone, or every one an environment holds. */
  get problems(): readonly ConfigError[] {
    return [this];
  }
}

/** Several mistakes at once; `variable` is the first one's, the message has a line for each. */
export class ConfigErrors extends ConfigError {
  readonly #problems: readonly ConfigError[];

  constructor(problems: readonly [ConfigError, ...ConfigError[]]) {
    super(problems[0].variable, '');
    this.message = problems.map((problem) => problem.message).join('\n');
    this.#problems = problems;
  }

  override get problems(): readonly ConfigError[] {
    return this.#problems;
  }
}
