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
// # Dedupe and the outbox
//
// Postings are deduplicated per source on DedupeKey ('id:'+external id,
// else 'url:'+canonical URL) by one batch upsert per run (Ingest). A new
// posting writes job_changes 'new' in the same transaction; a changed one
// (content hash differs) is updated and announced to nobody; an unchanged
// one only has last_seen_at refreshed. A posting that expired as missing
// and shows up again is revived and announced again. A trigger wakes the
// matcher with NOTIFY birjob_jobs at commit.
//
// # Runs, expiry and suspect runs
//
// Every run is recorded in scrape_runs (pages, found, new, updated,
// expired, error samples). Status: "backoff" when no request was made
// because the board's host is backing off (see Back-off; the errors say
// until when), "failed" when the first page could not be fetched or parsed,
// "not-modified" when the first page answered 304 to the stored ETag /
// Last-Modified (scheduled runs only), "empty" when the board answered but
// nothing was found (the note names the selector that matched nothing: a
// broken selector is far likelier than an empty board), "suspect" when any
// request failed, the run deadline cut it short, or it found fewer than
// suspectRatio (default 0.5) of the median of the last five healthy runs,
// else "ok". Only "ok" runs expire anything: detail pages gone (404/410),
// validThrough passed, and postings missing from expireAfterMissing
// (default 2) healthy runs in a row — the last not when the page limit
// stopped the crawl. A scheduler sweep also expires passed validThrough
// every minute. Expiries write job_changes 'expired'.
//
// # Source health and the automatic pause
//
// After each run, source_health counts the source's failure streak
// ("failed" runs in a row), its empty streak ("empty" runs in a row) and
// its last success ("ok", "suspect" or "not-modified": the board was read);
// "backoff" runs never reached the board and change no streak. When the
// failure streak reaches Config.PauseAfterFailures (BIRJOB_PAUSE_AFTER_FAILURES,
// default 10, 0 never), the source is disabled with the reason (the count
// and the last error). Enabling it again resumes it: a trigger (migration
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
// 100 ms, doubling while it keeps failing (up to 30 s), and back to 100 ms
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
