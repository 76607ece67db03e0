// Options several commands share, checked where they are read: a value that is not what the
// option takes stops the command with commander's one-line "option '--limit <n>' argument 'abc' is
// invalid." and exit code 1, before anything opens the database (where `abc` would have been a
// SqliteError, and `-5` a query without a limit).
import { InvalidArgumentError, Option } from 'commander';

export const maxListLimit = 10_000;

/** A whole number from 1 to `max`, written in plain digits. */
export function wholeNumberFrom1To(max: number): (value: string) => number {
  return (value) => {
    const number = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(number) || number < 1 || number > max) throw new InvalidArgumentError(`Use a whole number from 1 to ${max}.`);
    return number;
  };
}

/** `--limit <n>`: how many rows a listing prints. */
export function limitOption(description: string, defaultValue: number): Option {
  return new Option('--limit <n>', `${description} (1–${maxListLimit})`).default(defaultValue).argParser(wholeNumberFrom1To(maxListLimit));
}
