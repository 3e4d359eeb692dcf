// Package scraper is birjob's first pipeline stage: it fetches job boards
// on their schedules, extracts and normalises their postings, and owns the
// writes to the jobs table and to the job_changes outbox the matcher reads.
//
// # Source kinds and selectors
//
// html: CSS selectors (goquery/cascadia syntax). "item" selects each posting
// of a list page; "title", "url", "company", "location", "salary",
// "postedAt", "validThrough", "description", "externalId", "employmentType"
// and "remote" are read inside the item. "sel@attr" reads an attribute
// ("h2 a@href", "time@datetime"), "@attr" the item's own attribute
// ("@data-id"), a bare selector the element's text — except for url/next
// (href), postedAt/validThrough (datetime when present) and description
// (inner HTML, turned into plain text). "next" is the next-page link.
// "detail": "true" follows each posting's url and merges the detail page's
// JSON-LD JobPosting over the list fields (the list's location is kept when
// it has one); a detail page answering 404 or 410 marks the posting gone.
//
// jsonld: no selectors needed. Every <script type="application/ld+json">
// of the page is read leniently (see extract.ParseLenientJSON: comments, trailing
// commas, raw control characters, HTML comment / CDATA wrappers, several
// values in a row) and every JobPosting inside (arrays, @graph, ItemList,
// any nesting) is taken. Optional selectors: "links" (CSS selector of
// detail-page links, "a.job@href"; each linked page's JobPostings are
// taken, a posting without "url" gets the page's URL) and "next".
//
// rss: RSS 2.0 or Atom via gofeed; no selectors. guid is the external id;
// company and location come from author or from common extension elements
// (<job:company>, <location>, ...); categories give employment type and
// remote.
//
// json: "items" is the dotted path to the array ("data.items"; empty for a
// top-level array), the field keys are dotted paths inside each item
// ("company.name", "tags.0"). "salary" may lead to text ("from 1500 AZN")
// or an object {min,max,currency,period}; "salaryMin", "salaryMax",
// "salaryCurrency", "salaryPeriod" are accepted too. "next" is a path to
// the next page's URL.
//
// Per-source "settings" (JSON object): maxPages, maxDetailPages, delay,
// parallelism, requestTimeout, runTimeout, expireAfterMissing, suspectRatio,
// maxBodyBytes; see Settings.
//
// # Normalisation
//
// See package scraper/normalize. Links are resolved against the page (or
// its <base href>) and canonicalised; text is entity-decoded and trimmed;
// descriptions become plain text (never markup); charsets come from the
// Content-Type header, a BOM or <meta>, in that order of authority as
// browsers do, so windows-1251 and ISO-8859-1 pages come out as UTF-8. A
// salary without a stated period gets the board convention (InferPeriod).
// A posting without a title or an http(s) URL is dropped with a note.
//
// # One job per posting
//
// A job is a posting; where it is listed is its listings (job_sources, one
// per source and posting, migration 008). Within a source, postings are
// deduplicated on DedupeKey ('id:'+external id, else 'url:'+canonical
// URL), the listing's primary key. A posting a source has not listed
// before is looked for among the jobs seen (by any source) within
// Config.IdentityWindow (30 days), that this source does not list yet:
//
//  1. the same canonical URL (normalize.CanonicalURL: scheme and host
//     lowercased, default port, fragment and tracking parameters dropped,
//     query sorted), unless that URL names several postings (two of the
//     batch, or two jobs: a shared "apply" page is no identity);
//  2. else the same Fingerprint: the folded words (textfold) of title,
//     company and place, when the company is known ("Backend Engineer |
//     ACME | Bakı" = "backend engineer|acme|baki"); a title alone is not.
//
// Live jobs are preferred to expired ones, then the oldest. A source never
// has two listings of one job: its two postings are two jobs, whatever
// they share. Found, the posting becomes a listing of that job; when the
// job is live (and this is not a backlog run, or the posting is news: see
// "Backlog"), a 'listed' job_changes row lets the matcher tell whoever
// matches the job now through this source and was not told yet (package
// matcher); not found, it is a new job. Two sources ingesting
// one posting at the same moment serialise on advisory locks taken on its
// identities (listing key, URL, fingerprint; hashed into 1024 locks at
// most, in one order), so they make one job; postings a source listed
// before take no such lock. Re-ingesting 1,000 unchanged postings takes
// about 0.15 s, a new source finding 1,000 postings as other sources' jobs
// about 0.25 s (BenchmarkIngest_Rerun, on the shared 2-core test machine). The job's "source" is its primary source (the first to list it, or
// the next when that one is deleted); "sources" lists every source it was
// seen on, with its URL there and whether it still lists it. The primary
// source's postings rewrite the job; other sources only fill in what it
// lacks (company, place, salary, type, description, date). Jobs stored
// before 008 keep one listing each (existing duplicates are not merged) and
// get their fingerprint on their source's next run.
//
// Measured on the demo board served as html (with detail pages), rss and
// json sources at once: 108 postings listed, 324 listings, 108 jobs, each
// with three sources (TestIdentity_DemoBoardHTMLRSSAndJSON); before, 324
// jobs.
//
// # The outbox
//
// Ingest is one transaction: the batch's listings and jobs, and a 'new'
// job_changes row for each job that became live: inserted, or back after
// every listing had ended (missing, or the source disabled/deleted; a page
// found gone stays gone), or with a validThrough moved into the future,
// and a 'listed' row for each live job another source listed first that
// this source starts listing (see "One job per posting"). A changed
// listing updates its job and is announced to nobody; an unchanged one
// only has its last-seen time refreshed. A trigger wakes the matcher
// with NOTIFY birjob_jobs at commit.
//
// # Backlog
//
// Backlog is not news. A source's first run, and its first run after being
// re-enabled or given another URL (sources.backlog, set by migration 008's
// trigger, cleared by the first "ok" run that found postings), stores and
// lists all it finds, but marks the 'new' change of a posting as backlog
// unless it is new to the world: dated (postedAt) within Config.BacklogMaxAge
// (BIRJOB_BACKLOG_MAX_AGE, 48h by default), or undated and first seen now
// by any source (no job had it). A backlog job goes to the public "jobs"
// channel (the list is the list), and to no user and no public feed: feeds
// are alerts too, that people follow. Its audience is empty, so its expiry
// too tells "jobs" only. Runs after the backlog run announce every new
// posting, whatever its date. POST /api/jobs is never a backlog.
//
// # Runs, expiry and suspect runs
//
// Every run is recorded in scrape_runs (pages, found, new, updated,
// expired, error samples). A run whose database went away while it crawled
// (a restart, a failover) waits for it, up to 30 s, before storing what it
// found and recording itself. Status: "backoff" when no request was made
// because the board's host is backing off (see Back-off; the errors say
// until when), "failed" when the first page could not be fetched or parsed,
// "not-modified" when the first page answered 304 to the stored ETag /
// Last-Modified (scheduled runs only), "empty" when the board answered but
// nothing was found (the note names the selector that matched nothing: a
// broken selector is far likelier than an empty board), "suspect" when any
// request failed, the run deadline cut it short, or it found fewer than
// suspectRatio (default 0.5) of the median of the last five healthy runs,
// else "ok". Only "ok" runs end listings: detail pages gone (404/410),
// postings missing from expireAfterMissing (default 2) healthy runs in a
// row (not when the page limit stopped the crawl), and the URL checks
// below. A job expires when its last live listing ends — not while another
// source still lists it — and when its validThrough passes (also swept
// every minute). Disabling a source ends all its listings, in the
// transaction that disables it; deleting it does the same, then hands its
// jobs to the next source that listed them (or keeps its name on them) and
// deletes it. Every expiry writes job_changes 'expired', and the matcher
// tells "jobs" and everyone who was told about the job.
//
// A page gone counts for every source listing the job at that URL. The
// runs of html sources with detail pages fetch every posting's page; for
// the other kinds a healthy run checks at most Config.URLChecksPerRun (20)
// live listings' URLs, the least recently checked first, none more often
// than Config.URLCheckInterval (hourly) nor in its first hour, through the
// same collector as the crawl: its per-host limits, robots.txt rules (a
// page robots.txt forbids is not asked, and counts as checked) and the
// cluster's host state (a host backing off is not asked; a 429, 503 or 5xx
// here backs it off like a list page's, Retry-After honoured). 404 and 410
// end the listing; any other answer or failure leaves it for a later check.
//
// # Source health and the automatic pause
//
// After each run, source_health counts the source's failure streak
// ("failed" runs in a row), its empty streak ("empty" runs in a row) and
// its last success ("ok", "suspect" or "not-modified": the board was read);
// "backoff" runs never reached the board and change no streak. When the
// failure streak reaches Config.PauseAfterFailures (BIRJOB_PAUSE_AFTER_FAILURES,
// default 10, 0 never), the source is disabled with the reason (the count
// and the last error). Unlike an admin's disable, the automatic pause
// expires none of the source's jobs: a board that fails is not a board
// that dropped its postings ("a failed run expires nothing"). Its jobs
// stay listed until a run of the source can tell (after Resume) or an
// admin disables or deletes it, which expires them, told to everyone.
// Enabling it again resumes it: a trigger (migration
// 009) clears the pause and the failure streak, whichever way it is
// enabled. Service.Health sums it up for the API ("health" of a source) and
// the admin page; Service.Collector exports it to Prometheus
// (birjob_source_failure_streak, birjob_source_empty_streak,
// birjob_source_paused, birjob_source_enabled,
// birjob_source_last_success_timestamp_seconds, birjob_host_backoff_seconds,
// read from the database so every node reports the same; and this node's
// birjob_scrape_runs_total{source,status}).
//
// # Back-off
//
// host_state (migration 009) holds, per host (host[:port]), when the next
// request may start and until when the host is left alone; every node
// reads it before each request, on the database's clock. A 429 or 503 with
// Retry-After (delta-seconds, or an HTTP-date read against the response's
// own Date) pauses the host for that long (at most MaxRetryAfter, 24 h);
// other failures (429/503 without it, 5xx, connection errors and request
// timeouts, not the run's own deadline nor a refused address) pause it
// exponentially, BackoffBase·2^(n-1) up to BackoffMax (2 s to 1 h) for the
// n-th failure in a row, times a random factor in [0.5, 1.5) so nodes do
// not come back in step. A success ends the row. A request waits out a
// pause of up to MaxBackoffWait (10 s); a longer one refuses it with an
// error that says until when, and a run whose board's host is paused that
// long makes no request at all ("backoff"). The node-wide interval between
// requests to a host (DomainInterval) is reserved in the same row, so it
// holds across nodes; the parallelism cap stays per node.
//
// # Scheduling across nodes
//
// Service.Run schedules every enabled source with robfig/cron (Recover on,
// SkipIfStillRunning, UTC unless the spec says CRON_TZ=). Specs take an
// optional seconds field and descriptors; "@every d" ticks fall on
// wall-clock multiples of d so every node computes the same ticks. Each
// tick is claimed with INSERT INTO scrape_runs ... ON CONFLICT DO NOTHING on
// UNIQUE(source_id, tick): of all nodes whose cron fired, one runs it. A
// trigger on sources notifies birjob_sources; every node LISTENs and
// reloads its entries (remove and add: cron has no update) within moments,
// and every 30 s as a safety net. A lost LISTEN connection is retried after
// 100 ms, doubling while it keeps failing (up to 1 s), and back to 100 ms
// once a connection has listened.
//
// One run of a source at a time, cluster-wide: a run (scheduled or by hand)
// first takes the source's lease in source_health (run_holder,
// run_lease_until = now + RunLease, 1 min), renews it every third of that
// while it runs and clears it at the end; a node that dies mid-run blocks
// the source until the lease runs out. A tick or "run now" that finds the
// lease held is skipped (run now answers 409).
//
// # Politeness and safety
//
// A new colly collector per run (colly's visited set is forever), robots.txt
// honoured unless the source's respectRobots is off (IgnoreRobotsTxt is set
// explicitly both ways), an identifying User-Agent, a per-host interval and
// parallelism shared by all runs of the node plus the source's own delay
// and parallelism (waits honour the run's context), request and run
// deadlines (Wait is awaited in a goroutine: a run returns at its deadline
// even if colly does not), a body-size limit, a page limit and conditional
// GETs. Only http and https are fetched. Unless Config.AllowPrivate is
// set, connections to addresses that are not public (internal/netguard's
// table: loopback, private, link-local, CGNAT, NAT64, 6to4, reserved, ...)
// are refused at dial time, which covers redirects and DNS rebinding, with
// an error naming BIRJOB_ALLOW_PRIVATE; Config.AllowAddrs lets through
// exact ip:port addresses only (demo mode: the demo board this node
// serves, not the rest of loopback). Proxies from the environment are not
// used, as a proxy would bypass that check.
package scraper
