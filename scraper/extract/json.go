package extract

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/birjob/birjob/model"
)

// JSON reads a json-kind document: the array at selectors["items"]
// and each field as a path inside an item.
func JSON(body string, page *url.URL, sel map[string]string) (Page, error) {
	var res Page
	var doc any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		v, lerr := ParseLenientJSON([]byte(body))
		if lerr != nil {
			return res, fmt.Errorf("%s: not valid JSON: %w", page, err)
		}
		doc = v
	}
	items, ok := jsonPath(doc, sel["items"]).([]any)
	if !ok {
		return res, fmt.Errorf("%s: the items path %q does not lead to an array", page, sel["items"])
	}
	field := func(it any, key string) any {
		if p := strings.TrimSpace(sel[key]); p != "" {
			return jsonPath(it, p)
		}
		return nil
	}
	text := func(it any, key string) string {
		v := field(it, key)
		if f, ok := v.(float64); ok {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		if a, ok := v.([]any); ok {
			var parts []string
			for _, e := range a {
				if s := str(e); s != "" {
					parts = append(parts, s)
				}
			}
			return strings.Join(parts, ", ")
		}
		return str(v)
	}
	for _, it := range items {
		r := Posting{Base: page}
		r.Title = text(it, "title")
		r.URL = text(it, "url")
		r.Company = text(it, "company")
		r.Location = text(it, "location")
		r.PostedAt = text(it, "postedAt")
		r.ValidThrough = text(it, "validThrough")
		r.Description = text(it, "description")
		r.ExternalID = text(it, "externalId")
		r.EmploymentType = text(it, "employmentType")
		r.Remote = text(it, "remote")
		switch sv := field(it, "salary").(type) {
		case map[string]any:
			s := &model.Salary{
				Min:      num(firstOf(sv, "min", "minValue", "from", "salaryMin")),
				Max:      num(firstOf(sv, "max", "maxValue", "to", "salaryMax")),
				Currency: strings.ToUpper(str(firstOf(sv, "currency", "curr"))),
				Period:   unitPeriod(str(firstOf(sv, "period", "unit", "unitText"))),
			}
			if p := strings.ToLower(str(firstOf(sv, "period", "unit", "unitText"))); s.Period == "" {
				s.Period = map[string]string{"hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}[p]
			}
			if !s.IsZero() {
				r.SalaryV = s
			}
		default:
			r.Salary = text(it, "salary")
		}
		if r.SalaryV == nil && (sel["salaryMin"] != "" || sel["salaryMax"] != "") {
			s := &model.Salary{Min: num(field(it, "salaryMin")), Max: num(field(it, "salaryMax")),
				Currency: strings.ToUpper(text(it, "salaryCurrency")), Period: unitPeriod(text(it, "salaryPeriod"))}
			if !s.IsZero() {
				r.SalaryV = s
			}
		}
		res.Jobs = append(res.Jobs, r)
	}
	if n := strings.TrimSpace(sel["next"]); n != "" {
		res.Next = ResolveLink(page, str(jsonPath(doc, n)))
	}
	return res, nil
}

// jsonPath walks a dotted path ("data.items", "company.name", "tags.0")
// through a parsed JSON document. An empty path is the document itself.
func jsonPath(v any, path string) any {
	path = strings.TrimSpace(path)
	if path == "" || path == "." || path == "$" {
		return v
	}
	path = strings.TrimPrefix(strings.TrimPrefix(path, "$."), ".")
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// firstOf returns the first non-null value of m under keys.
func firstOf(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := m[k]; ok && v != nil {
			return v
		}
	}
	return nil
}
