/**
 * Failure records are filed under Brazil's civil date (America/Sao_Paulo), the date the
 * Portal's `falhas` search speaks of, written ddMMyyyy.
 */
const BRAZIL = new Intl.DateTimeFormat("en-GB", {
  timeZone: "America/Sao_Paulo",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

function parts(instant: Date): Record<string, number> {
  return Object.fromEntries(
    BRAZIL.formatToParts(instant)
      .filter((part) => part.type !== "literal")
      .map((part) => [part.type, Number(part.value)]),
  );
}

/** The Brazilian civil date of an instant, as ddMMyyyy. */
export function brazilDate(instant: Date): string {
  const { day, month, year } = parts(instant);
  return `${String(day).padStart(2, "0")}${String(month).padStart(2, "0")}${String(year).padStart(4, "0")}`;
}

/** Milliseconds since Brazilian midnight (for time-ordered ids within a day). */
export function brazilMillisOfDay(instant: Date): number {
  const { hour, minute, second } = parts(instant);
  return ((hour! * 60 + minute!) * 60 + second!) * 1000 + instant.getUTCMilliseconds();
}

/**
 * Reads a `data` value as the Portal sends it: "17092018" or the number 17092018 (whose
 * leading zero a number cannot keep, so it is padded back to 8 digits). Undefined for an
 * impossible date (31022024) or a malformed value.
 */
export function parseBrazilDate(value: unknown): string | undefined {
  let text: string;
  if (typeof value === "number" && Number.isInteger(value) && value > 0 && value < 1e8) text = String(value).padStart(8, "0");
  else if (typeof value === "string" && /^\d{8}$/.test(value)) text = value;
  else return undefined;
  const day = Number(text.slice(0, 2));
  const month = Number(text.slice(2, 4));
  const year = Number(text.slice(4));
  const check = new Date(Date.UTC(year, month - 1, day));
  const real =
    year >= 1 && check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day;
  return real ? text : undefined;
}
