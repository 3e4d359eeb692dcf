// Package demoboard is birjob's built-in demo job board: a small, realistic
// Baku job site where a new job appears every few seconds and old ones
// expire, so that a first run of birjob shows the whole pipeline (scrape,
// match, notify) working offline. It runs in-process on birjob's own server
// under a path prefix, or standalone with Main ("birjob demo-board").
//
// # Mounting
//
// A Board is an http.Handler. Links are always built under Options.BasePath.
// The board accepts requests either with the prefix still in the path or
// with it stripped, so both of these work:
//
//	b := demoboard.New(demoboard.Options{BasePath: "/demo-board"})
//	mux.Handle("/demo-board/", b)                                   // prefix kept
//	mux.Handle("/demo-board/", http.StripPrefix("/demo-board", b)) // prefix stripped
//
// Absolute URLs (RSS links, the JSON API's url, the JSON-LD url) use the
// request's Host and http/https from r.TLS. StartURL, FeedURL and APIURL
// take the scheme and host the board is reached at ("http://127.0.0.1:8080")
// and add BasePath. /robots.txt is served at BasePath+"/robots.txt"; only a
// board served at the root of its host (standalone) has it where crawlers
// look.
//
// # Determinism
//
// Posting number k (k >= 0) appears at Start + k*Interval. Its content
// (title, company, location, remote, salary and its prose, employment type,
// description, whether it expires early) is a pure function of (Seed, k);
// its times follow from Start, Interval and Lifetime. Start defaults to a
// fixed instant (DefaultStart), so numbers keep growing across restarts and
// the same seed and interval always give the same job under the same id. It is listed while
// AppearsAt <= t < ExpiresAt, where ExpiresAt is AppearsAt + Lifetime, or
// for about one job in five between 20% and 70% of Lifetime. datePosted is
// AppearsAt and validThrough is ExpiresAt, in Baku time (UTC+4). The clock
// is Options.Now, so tests can step through time. JobsAt and Posting tell
// tests elsewhere exactly what a scraper must find; Posting.Job gives it as
// a model.Job.
//
// # Pages
//
//	/                 302 to /jobs
//	/jobs?page=N      list, newest first, PerPage per page; a malformed or
//	                  non-positive page is 400, a page past the end is an
//	                  empty 200 page without a next link
//	/jobs/demo-K      detail with schema.org JobPosting JSON-LD; 404 before
//	                  the job appears or for an unknown id, 410 once expired
//	/feed.rss         RSS 2.0 of the listed jobs
//	/api/jobs.json    {"data":{"items":[…],"total":n}} of the listed jobs
//	/robots.txt       allows everything but BasePath+"/private/"
//
// List pages, the feed and the API carry Last-Modified (the last time a job
// appeared or expired) and an ETag (weak on HTML pages, whose relative
// times drift), and answer conditional GETs with 304 through
// http.ServeContent. Prefer If-None-Match: Last-Modified has one-second
// resolution. Only GET and HEAD are allowed.
//
// # Selectors
//
// SourceSelectors returns the html source kind's selectors for the list
// pages. A value is a CSS selector relative to the item, optionally
// followed by "@attr" to read an attribute instead of the text; an empty
// selector before "@" means the item itself ("@data-id"); "next" is relative
// to the page; "detail": "true" asks the scraper to follow "url" and merge
// the detail page's JSON-LD. Each list item looks like:
//
//	<article class="job" data-id="demo-123">
//	  <h2 class="title"><a href="/demo-board/jobs/demo-123">Mühasib</a></h2>
//	  <span class="company">…</span> <span class="location">Bakı</span>
//	  <span class="remote">Remote</span> (remote jobs only)
//	  <span class="type">Tam ştat</span> <span class="salary">1 500 – 2 500 ₼ / ay</span>
//	  <time class="posted" datetime="2026-11-22T11:32:57+04:00">2 saat əvvəl</time>
//	  <p class="summary">…</p>
//	</article>
//
// Salary prose varies like real boards: "1 500 – 2 500 ₼ / ay",
// "1500-2500 AZN", "from 1200 ₼", "1200 AZN-dən", "от 1600 ₼", "900 AZN",
// "$3,000 – $4,500 / month", "from $3,000/month", "$60k–$80k / year",
// "€2 000 – €3 000 / month", and "Razılaşma yolu ilə" / "Negotiable" /
// "по договорённости" when there is none. Prose without a unit ("1500-2500
// AZN", "from 1200 ₼", "900 AZN") is per month, as the detail page's
// baseSalary unitText says. Fully remote jobs have the
// location "Remote" and no JSON-LD jobLocation; all remote jobs have
// jobLocationType TELECOMMUTE.
package demoboard
