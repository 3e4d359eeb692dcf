// Package matcher decides which saved criteria (users' alerts and public
// feeds) a job matches, and runs the matching stage of the pipeline: new
// and expired jobs in, events out.
//
// # Criteria
//
// A criteria (model.Criteria) is an AND of its non-empty fields:
//
//   - query: the free-text query language below;
//   - location: a place; known places match in every spelling (Baku, Bakı,
//     Baki, Баку; Sumqayıt, Sumgait, Сумгаит; Gəncə, Ganja, Гянджа; ...,
//     see places.go), a country matches its cities ("Azerbaijan" matches a
//     job in Bakı), several places ("Baku, Sumqayıt") match any of them, a
//     city with its country ("Bakı, Azərbaycan") means the city, and text
//     naming no known place must appear as words in the job's location
//     ("Nərimanov"). "Remote" (Uzaqdan, Удаленно, ...) means remote jobs.
//   - remote: true alone matches remote jobs only; true with a location
//     matches jobs in that location or remote ("Baku or remote"); false
//     matches on-site jobs only. A job is remote when flagged so or when its
//     location names a remote alias.
//   - salaryMin {amount, currency, period}: the job's best stated pay (its
//     maximum, else its minimum) must reach the amount. Both are converted to
//     AZN per month with the static RatesToAZN table and PeriodsPerMonth
//     (a month is 173.33 working hours, 21.67 days, 4.33 weeks; a year is
//     12 months). An empty currency is AZN, an empty period is month. A job
//     that states no salary, or one in an unknown currency, does not pass a
//     minimum: the user asked for jobs that say they pay enough.
//   - employmentTypes: the job's type must be one of them (spellings such
//     as FULL_TIME or "part time" are normalised); a job that states no type
//     passes, since most postings leave it implicit.
//   - companies: the job's company must contain one of the names as words
//     ("PASHA Bank" matches "PASHA Bank OJSC"); excludeCompanies: it must
//     contain none of them.
//   - sources: one of the sources the job was seen on (its primary source
//     or any other that lists it, model.Job.Sources) must have one of the
//     names (folded).
//
// All text is compared after textfold.Fold: case, diacritics and the
// Azerbaijani/Turkish i and the Russian ё do not matter, so "muhendis"
// matches "MÜHƏNDİS".
//
// # Query language
//
//	golang developer          both words (in any order, anywhere)
//	"backend developer"       the words in a row («» “” also quote)
//	golang -senior            golang and not senior (!senior, NOT senior too)
//	golang OR python          either (| too); OR binds looser than AND
//	(golang OR go) backend    parentheses group
//	title:developer           restrict to the title
//	company:"pasha bank"      ... the company (description:, desc:, location:)
//	title:(go OR golang)      a prefix applies to the whole group
//	mühəndis*                 a word starting with "muhendis" (≥ 2 letters)
//
// A word without a field prefix is looked for in the title, the company
// and the description: job seekers expect an alert for "golang" to catch a
// "Backend Developer" whose description asks for Go; use title: to be
// strict. An excluded word likewise excludes a job that has it in any of
// the three, unless prefixed.
//
// Inflected forms: a word of at least 4 letters also matches a job word
// that extends it by at most 3 letters, so "menecer" finds "Satış
// meneceri", "mühəndis" finds "mühəndislər", "инженер" finds "инженера"
// and "developer" finds "developers", while "java" does not find
// "javascript" nor "go" "google". Words in quotes match exactly; for more,
// use a prefix (разработ*).
//
// Words are split like textfold.Tokens: "node.js" is the phrase "node js",
// "C++" and "C#" stay whole, punctuation alone is ignored. "OR", "AND" and
// "NOT" are operators only in capitals; lower-case "or" is a word. A word
// followed by a colon that is not a field name ("1C:Enterprise", "Java:")
// is a word; a letters-only name directly followed by text ("foo:bar") is
// an unknown field and an error. An empty query matches every job.
//
// Errors are *ParseError with the character offset of the problem, e.g.
// "unclosed quote at 7" for `senior "go developer`. Limits: 1000 bytes, 64
// words, 10 levels of parentheses.
//
// # Index
//
// Index finds the matching criteria of a job without looking at the others
// (the presearcher technique). Each criteria is compiled into one boolean
// tree; from the tree the index extracts clauses, each a set of keys (a
// token in a field, a token prefix, a place, a source) such that every job
// the criteria matches carries all keys of at least one clause:
//
//   - a word gives one clause of its key; a phrase one clause of its
//     rarest word (its words travel together, so two of them would select
//     no better than one);
//   - an AND needs only one selective child: the child whose clauses are
//     rarest, crossed with the second best when that stays small, so that a
//     clause can hold two keys ("python" and "sumgait");
//   - an OR needs every child: the union of their clauses;
//   - what cannot be indexed (a NOT, an employment type, on-site only, an
//     empty query) makes its subtree unindexable; a criteria with no
//     indexable part goes to an always-check list.
//
// Each clause is filed under its two rarest keys (rarity: a prior per kind
// of key, with the capital, countries and remote rated common, times how
// many criteria already use the key). Matching a job looks up the job's
// keys (its words, the stems its inflected words stand for, its places and
// source), collects the entries filed under one key it carries or under a
// pair it carries both of, adds the always-check list, and evaluates these
// candidates exactly. Extra candidates cost time, never correctness; a
// missed one would be a bug, which the property and fuzz tests rule out by
// comparing every Index with Brute, the evaluator that checks every
// criteria one by one with the plain tree evaluator.
//
// Criteria that differ only in their salary share one entry, evaluated
// once per job, whose alerts are then filtered by salary: many users save
// the same "golang, Baku" alert. Criteria written identically are compiled
// once.
//
// Memory layout, because at a million criteria every candidate is a cache
// miss: each entry's criteria is compiled to a short postfix program over
// token ids (words are numbered in a dictionary, the job's words are
// marked in an array), and every posting carries a copy of its entry's
// program and up to two of its members, so that checking a candidate reads
// the posting list in order and touches nothing else. Phrases are checked
// once per job by phrase id. The criteria trees are dropped once compiled.
//
// Updates (Add, Update, Remove) are incremental and take a write lock;
// Match takes a read lock, so any number of matches run in parallel with
// one writer. AddBatch compiles many criteria on all CPUs (a node's load
// at start): it plans which criteria are new, compiles them in the
// background and files them in order, one compiled chunk at a time.
//
// # Worker
//
// Worker runs on every matching node. It loads all active alerts and feeds
// into memory, then LISTENs on birjob_jobs and birjob_alerts (with a
// polling safety net, and a fresh LISTEN and catch-up after a lost
// connection, tried again at least every second, so matching resumes
// within about a second of the database's return). Alert and feed edits are logged by triggers into
// criteria_changes in commit order (migration 003); each node applies the
// rows after its cursor, and does so again right after claiming jobs, so a
// job is never matched against an index older than the alerts committed
// before it was claimed.
//
// Job changes are claimed from the job_changes outbox with FOR UPDATE SKIP
// LOCKED in batches; one transaction writes every event of the batch and
// deletes the claimed rows, so each change is matched exactly once across
// all nodes and a crash loses nothing. A change is claimed only when no
// earlier change of the same job is pending (migration 004), so a job's
// expiry never overtakes its new-job deliveries on another node. Events:
//
//   - new job: new-job on "jobs"; on each matching user's channel
//     (model.UserChannel) once, with "alerts" = that user's matching alert
//     ids; on each matching feed's channel.
//   - new job whose change is marked backlog (the scraper lists it but it is
//     not news: an old posting of a source's first run, see package
//     scraper, "Backlog"): new-job on "jobs" only, nothing matched; its
//     audience is recorded empty.
//   - listed job (a source started listing a live job another source
//     announced, migration 016): matched again, with all its sources;
//     new-job on the channel of each matching user (with its alert ids)
//     and feed not in the job's audience, nothing on "jobs" nor to anyone
//     told already; the audience becomes the union.
//   - expired job: job-expired on "jobs" and on every channel that was told
//     about the job (user channels again carry their alert ids).
//
// A job's data carries "sources", every source it was seen on; a posting
// listed by several sources is one job, and one change (see package
// scraper, "One job per posting").
//
// Who was told is recorded in job_audience, one row per job (the users
// with their matching alert ids as two parallel arrays, and the feeds),
// written in the events' own transaction; a job announced again replaces
// its audience. Event data is model.JobEvent JSON without the description;
// a job matching 100,000 users is one COPY of 100,001 events, whose
// payloads are encoded while the COPY streams. Migration 006 explains the
// storage choices that keep that within a second.
//
// A batch runs in named steps: claim the changes, read the jobs and the
// stored audiences, match the new jobs against the indexes, plan the
// events and audiences (planBatch, a pure function: plan.go), write them.
// Every statement is in package storage; the worker owns the transaction.
package matcher
