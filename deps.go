//go:build tools

package tools

import (
	_ "github.com/PuerkitoBio/goquery"
	_ "github.com/chromedp/chromedp"
	_ "github.com/coder/websocket"
	_ "github.com/gocolly/colly/v2"
	_ "github.com/gorilla/websocket"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/tern/v2/migrate"
	_ "github.com/mmcdole/gofeed"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/r3labs/sse/v2"
	_ "github.com/robfig/cron/v3"
	_ "golang.org/x/crypto/bcrypt"
	_ "golang.org/x/net/html/charset"
	_ "golang.org/x/text/unicode/norm"
	_ "golang.org/x/time/rate"
	_ "gopkg.in/yaml.v3"
)
