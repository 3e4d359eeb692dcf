// Package normalize turns the text job boards publish into birjob's
// normalised values: canonical URLs, clean text, salaries, dates, employment
// types and the remote flag. Every function accepts hostile input (any bytes,
// any length) without panicking, and reports "not understood" rather than
// guessing when the input carries no usable value.
//
// # URLs
//
// CanonicalURL resolves a link against the page it was found on, keeps only
// http and https, lower-cases scheme and host, drops default ports, the
// fragment and tracking parameters (utm_*, gclid, fbclid, ...), and sorts
// the remaining query parameters, so that one posting reached through
// differently decorated links gets one dedupe key.
//
// # Salaries
//
// ParseSalary reads a salary field ("₼1500 - 2500", "90k", "from 1500 AZN",
// "$50/hour", "до 200 000 руб. в месяц"); FindSalary looks for a salary in
// prose and only trusts amounts next to a currency sign or word, so that
// "5 years" or "401(k)" are never taken for pay. Amounts: thousands separators
// (",", ".", space, apostrophe) are told from decimals by the three digits
// that follow them; "k"/"K"/"тыс" multiply by 1000 and carry over to the
// lower end of a range ("90-120k"). A single amount after "from"/"dən"/"от"
// is a minimum, after "up to"/"до"/"max" a maximum, otherwise it is both.
//
// # Dates
//
// ParseDate understands RFC 3339 / ISO 8601 (with or without time and zone),
// RFC 1123 and the other net/mail and net/http forms, dd.mm.yyyy, month names
// in English, Azerbaijani and Russian, Unix timestamps, and relative forms
// ("today", "2 days ago", "2 gün əvvəl", "2 дня назад", "30+ days ago")
// computed from the given now. Dates before 1990 or more than two years
// ahead are rejected as nonsense.
package normalize
