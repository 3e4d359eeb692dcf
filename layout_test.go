package birjob_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/birjob/birjob"

// layers is the dependency rule of the README's layout section: a package
// imports only packages of a lower layer, and within a stage only its own
// sub-packages (scraper -> scraper/normalize). Each package of ours is in
// the layer of the longest prefix listed here.
var layers = map[string]int{
	// ground floor: imports nothing of ours
	"model": 0, "textfold": 0, "config": 0, "migrations": 0,
	"internal/httpx": 0, "internal/pgembed": 0, "internal/browsertest": 0, "internal/netguard": 0, "internal/logtest": 0,
	"internal/pushtest": 0, "internal/smtptest": 0, "internal/faulttest": 0, "internal/procstat": 0,
	// storage and the helpers on it
	"storage": 1, "internal/pgtest": 1, "demoboard": 1,
	// accounts and sessions, read by the API and the streams
	"auth": 2,
	// the pipeline stages: none imports another
	"scraper": 3, "matcher": 3, "notify": 3, "courier": 3,
	// the JSON API and the page
	"api": 4, "web": 4,
	// the wiring and the tools: nothing imports them
	"cmd": 5,
}

// stageOf returns the package's top folder when it is a pipeline stage.
func stageOf(pkg string) string {
	top, _, _ := strings.Cut(pkg, "/")
	if layers[top] == 3 {
		return top
	}
	return ""
}

func layerOf(t *testing.T, pkg string) int {
	for p := pkg; p != "."; p = path.Dir(p) {
		if l, ok := layers[p]; ok {
			return l
		}
	}
	t.Errorf("package %s is in no layer: add it to layers in layout_test.go and to the README's layout section", pkg)
	return -1
}

// imports maps each package folder of the module to the module packages
// its files import; tests selects _test.go files instead of the others.
func imports(t *testing.T, tests bool) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != "." && (strings.HasPrefix(n, ".") || n == "testdata" || n == "data" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") != tests {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(p))
		for _, spec := range f.Imports {
			ip, _ := strconv.Unquote(spec.Path.Value)
			if rest, ok := strings.CutPrefix(ip, module+"/"); ok {
				if out[dir] == nil {
					out[dir] = map[string]bool{}
				}
				out[dir][rest] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// allowed says why pkg may not import dep, or returns "".
func allowed(t *testing.T, pkg, dep string) string {
	if dep == "cmd" || strings.HasPrefix(dep, "cmd/") {
		return "nothing imports the binaries under cmd/"
	}
	from, to := layerOf(t, pkg), layerOf(t, dep)
	if to < from || stageOf(pkg) != "" && stageOf(pkg) == stageOf(dep) {
		return ""
	}
	return "imports run downward only: layer " + strconv.Itoa(from) + " may not import layer " + strconv.Itoa(to) + " (see the README's layout section)"
}

// TestLayout_ImportsRunDownward fails when a package imports one of its
// own layer or above: a stage importing another stage, the API, or the
// wiring; storage importing a stage; anything importing cmd/. Tests may
// reach across (a notify test may run the matcher) but not into cmd/.
func TestLayout_ImportsRunDownward(t *testing.T) {
	if _, err := os.Stat("go.mod"); err != nil {
		t.Fatal("run from the module root")
	}
	for pkg, deps := range imports(t, false) {
		for dep := range deps {
			if why := allowed(t, pkg, dep); why != "" {
				t.Errorf("%s imports %s: %s", pkg, dep, why)
			}
		}
	}
	for pkg, deps := range imports(t, true) {
		for dep := range deps {
			if strings.HasPrefix(dep, "cmd/") {
				t.Errorf("tests of %s import %s: nothing imports the binaries under cmd/", pkg, dep)
			}
		}
	}
}

// TestLayout_RuleCatchesBreaks checks the rule itself on made-up edges, so
// that a layers table edited by mistake cannot pass everything.
func TestLayout_RuleCatchesBreaks(t *testing.T) {
	for _, c := range []struct {
		from, to string
		ok       bool
	}{
		{"api", "scraper", true},
		{"scraper", "storage", true},
		{"scraper", "scraper/normalize", true},
		{"scraper/extract", "textfold", true},
		{"notify", "auth", true},
		{"cmd/birjob", "api", true},
		{"scraper", "matcher", false},
		{"matcher", "notify", false},
		{"notify", "api", false},
		{"storage", "scraper", false},
		{"model", "storage", false},
		{"api", "web", false},
		{"api", "cmd/birjob", false},
		{"cmd/birjob-load", "cmd/birjob", false},
	} {
		if got := allowed(t, c.from, c.to) == ""; got != c.ok {
			t.Errorf("%s -> %s allowed = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}

// sourceFiles parses every non-test Go file of the module outside the
// folders skip names, and calls fn with each.
func sourceFiles(t *testing.T, skip func(dir string) bool, fn func(fset *token.FileSet, path string, f *ast.File)) {
	t.Helper()
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if p != "." && (strings.HasPrefix(n, ".") || n == "testdata" || n == "data" || n == "node_modules" || skip(filepath.ToSlash(p))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		fn(fset, filepath.ToSlash(p), f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// MaxFuncLines is the longest function allowed outside cmd/ and tests: a
// longer one is split where its pieces have names.
const MaxFuncLines = 100

// longFuncs names the functions of f longer than max lines: every
// declared function and method, and every function literal outside one (a
// package-level var x = func() {...}), which no declaration would count.
func longFuncs(fset *token.FileSet, f *ast.File, max int) []string {
	var out []string
	check := func(n ast.Node, name string) {
		if l := fset.Position(n.End()).Line - fset.Position(n.Pos()).Line + 1; l > max {
			out = append(out, fmt.Sprintf("%s: func %s is %d lines", fset.Position(n.Pos()), name, l))
		}
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Body != nil {
				check(d, d.Name.Name)
			}
		case *ast.GenDecl:
			ast.Inspect(d, func(n ast.Node) bool {
				if fl, ok := n.(*ast.FuncLit); ok {
					check(fl, "literal")
					return false
				}
				return true
			})
		}
	}
	return out
}

func TestLayout_FunctionsAreShort(t *testing.T) {
	sourceFiles(t, func(dir string) bool { return dir == "cmd" }, func(fset *token.FileSet, p string, f *ast.File) {
		for _, s := range longFuncs(fset, f, MaxFuncLines) {
			t.Errorf("%s (at most %d outside cmd/ and tests)", s, MaxFuncLines)
		}
	})
}

// TestLayout_LongFuncsCounts checks the length rule on made-up code, so a
// broken count cannot pass everything: a body of max lines passes, one more
// line fails, in a function, a method and a package-level literal.
func TestLayout_LongFuncsCounts(t *testing.T) {
	body := func(lines int) string { return strings.Repeat("\tx++\n", lines-2) }
	src := "package p\n\nvar x int\n\n" +
		"func ok() {\n" + body(MaxFuncLines) + "}\n\n" +
		"func long() {\n" + body(MaxFuncLines+1) + "}\n\n" +
		"type T struct{}\n\nfunc (T) longMethod() {\n" + body(MaxFuncLines+1) + "}\n\n" +
		"var lit = func() {\n" + body(MaxFuncLines+1) + "}\n\n" +
		"func decl()\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(longFuncs(fset, f, MaxFuncLines), "\n")
	for _, want := range []string{"func long is 101 lines", "func longMethod is 101 lines", "func literal is 101 lines"} {
		if !strings.Contains(got, want) {
			t.Errorf("longFuncs misses %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "func ok ") || strings.Contains(got, "decl") {
		t.Errorf("longFuncs counts a function of %d lines or a body-less declaration:\n%s", MaxFuncLines, got)
	}
}

// sqlText matches a string literal that is a SQL statement (keywords in
// capitals, as all of birjob's SQL is written).
var sqlText = regexp.MustCompile(`(?s)^\s*(WITH\b.*\bAS\s*\(|SELECT\b.*\bFROM\b|SELECT\s+\w+\(|INSERT\s+INTO\b|UPDATE\s+\w+(\s+\w+)?\s+SET\b|DELETE\s+FROM\b|TRUNCATE\b|COPY\s+\w+.*\bFROM\s+STDIN\b|CREATE\s|ALTER\s|DROP\s)`)

// sqlAllowed are the folders whose code may write SQL, and why.
var sqlAllowed = map[string]string{
	"storage":             "the home of every table's SQL",
	"migrations":          "the schema",
	"internal/pgembed":    "creates the embedded cluster's database",
	"internal/pgtest":     "creates and drops test databases",
	"cmd/birjob-load":     "a benchmark tool: creates its database, reads pg_stat_statements",
	"cmd/birjob-alertgen": "a benchmark tool: bulk fixtures with generate_series",
	"cmd/birjob-capacity": "a measurement tool: scratch databases, bulk fixtures, the event log's lock switched off for comparison",
}

// stringText is the text of a string literal, or of a + chain that holds
// one, with every other operand read as "?": storage builds statements as
// "SELECT " + cols + " FROM jobs", whose parts alone read as no statement.
func stringText(e ast.Expr) (text string, ok bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return stringText(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		l, lok := stringText(e.X)
		r, rok := stringText(e.Y)
		if !lok && !rok {
			return "", false
		}
		if !lok {
			l = "?"
		}
		if !rok {
			r = "?"
		}
		return l + r, true
	}
	return "", false
}

// sqlIn returns the position and start of each SQL text in f.
func sqlIn(fset *token.FileSet, f *ast.File) []string {
	var out []string
	var seen []ast.Node // a chain found: its parts are not reported again
	ast.Inspect(f, func(n ast.Node) bool {
		e, ok := n.(ast.Expr)
		if !ok {
			return true
		}
		for _, c := range seen {
			if e.Pos() >= c.Pos() && e.End() <= c.End() {
				return true
			}
		}
		if s, ok := stringText(e); ok && sqlText.MatchString(s) {
			out = append(out, fmt.Sprintf("%s: SQL outside storage/: %.60q", fset.Position(e.Pos()), s))
			seen = append(seen, e)
		}
		return true
	})
	return out
}

// TestLayout_SQLOnlyInStorage fails when SQL text appears in a non-test
// file outside storage/ (the stages' LISTEN is built from an identifier,
// not a statement literal, and is the one exception).
func TestLayout_SQLOnlyInStorage(t *testing.T) {
	sourceFiles(t, func(dir string) bool { _, ok := sqlAllowed[dir]; return ok }, func(fset *token.FileSet, p string, f *ast.File) {
		for _, s := range sqlIn(fset, f) {
			t.Error(s)
		}
	})
}

// TestLayout_SQLTextCaught checks the SQL rule on made-up code: statements
// in one literal or built with +, and text that only looks like SQL.
func TestLayout_SQLTextCaught(t *testing.T) {
	for _, s := range []string{"SELECT id FROM jobs", "\n\t\tINSERT INTO events (a) VALUES ($1)", "UPDATE sources SET enabled = false", "UPDATE jobs j SET expired_at = now()", "DELETE FROM job_changes WHERE id = 1", "SELECT pg_notify($1, $2)", "WITH j AS (SELECT 1) SELECT * FROM j", "COPY jobs (id) FROM STDIN"} {
		if !sqlText.MatchString(s) {
			t.Errorf("sqlText misses %q", s)
		}
	}
	for _, s := range []string{"select a source", "Update the page", "delete from the list", "LISTEN birjob_jobs", "DELETE /api/jobs/{id}/saved"} {
		if sqlText.MatchString(s) {
			t.Errorf("sqlText takes %q for SQL", s)
		}
	}
	src := `package p

func f(db interface{ Exec(string, ...any) }, cols, id string) {
	db.Exec("SELECT " + cols + " FROM jobs WHERE id = $1", id)
	db.Exec(("UPDATE " + "jobs") + " SET title = $1", id)
	db.Exec("DELETE FROM jobs")
	println("SELECT " + cols, "the FROM line of a mail")
	println(len(cols) + 1)
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := sqlIn(fset, f)
	if len(got) != 3 {
		t.Fatalf("sqlIn found %d statements, want 3 (one per chain, none in the println):\n%s", len(got), strings.Join(got, "\n"))
	}
	for i, line := range []string{"p.go:4:", "p.go:5:", "p.go:6:"} {
		if !strings.HasPrefix(got[i], line) {
			t.Errorf("statement %d at %s, want %s", i, got[i], line)
		}
	}
}
