package api

import (
	"errors"
	"fmt"
	"strings"

	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/model"
)

// errMatchesEverything is the answer to criteria that would match every
// job (see narrows).
var errMatchesEverything = errors.New("this would match every job: give the query at least one word or phrase to look for " +
	`(a query of exclusions alone, such as "-php", excludes but looks for nothing), ` +
	"or set a location, remote, salaryMin, employmentTypes, companies or sources")

// narrows returns nil when c says something that selects jobs, rather than
// matching (nearly) all of them. The rule, for alerts and public feeds:
// at least one of
//
//   - a query with a positive term: a word or phrase not under a minus,
//     "!" or NOT ("golang -php" narrows, "-php", "-" and `""` do not);
//   - a location, remote set (true or false), a salaryMin with an amount
//     above 0, employmentTypes, companies or sources.
//
// excludeCompanies alone does not narrow, like an exclusion-only query:
// such criteria match almost every job, which is never what someone saving
// an alert meant (the public "jobs" channel carries every job already).
// Otherwise it returns errMatchesEverything, or the query's parse error.
func narrows(c *model.Criteria) error {
	if c.Location != "" || c.Remote != nil || (c.SalaryMin != nil && c.SalaryMin.Amount > 0) ||
		len(c.EmploymentTypes) > 0 || len(c.Companies) > 0 || len(c.Sources) > 0 {
		return nil
	}
	q, err := matcher.ParseQuery(c.Query)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if !hasPositiveTerm(q.String()) {
		return errMatchesEverything
	}
	return nil
}

// hasPositiveTerm reports whether the canonical form of a query
// (matcher.Query.String: folded words and phrases, "-" for negation,
// parentheses, " OR ") has a word or phrase under an even number of
// negations.
func hasPositiveTerm(canon string) bool {
	var stack []bool // negation of each open group
	neg := false     // negation of the current position
	pending := false // a "-" applies to what follows
	for i := 0; i < len(canon); i++ {
		switch c := canon[i]; c {
		case ' ':
		case '-':
			pending = !pending
		case '(':
			stack = append(stack, neg)
			neg = neg != pending
			pending = false
		case ')':
			if len(stack) > 0 {
				neg, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
		default:
			if strings.HasPrefix(canon[i:], "OR ") {
				i += 2
				continue
			}
			end := i + 1
			if c == '"' {
				if j := strings.IndexByte(canon[i+1:], '"'); j >= 0 {
					end = i + 1 + j + 1
				}
			} else {
				for end < len(canon) && canon[end] != ' ' && canon[end] != ')' {
					end++
				}
			}
			if neg == pending {
				return true
			}
			pending = false
			i = end - 1
		}
	}
	return false
}
