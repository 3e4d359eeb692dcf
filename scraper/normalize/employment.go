package normalize

import (
	"strings"

	"github.com/birjob/birjob/model"
)

// employmentWords maps lower-cased words of schema.org and job-board prose
// (English, Azerbaijani, Russian) to model.Employment*. Longer phrases are
// tried before shorter ones, so "part-time" wins over "time".
var employmentWords = []struct{ word, kind string }{
	{"full_time", model.EmploymentFullTime}, {"full-time", model.EmploymentFullTime},
	{"full time", model.EmploymentFullTime}, {"fulltime", model.EmploymentFullTime},
	{"permanent", model.EmploymentFullTime}, {"tam ştat", model.EmploymentFullTime},
	{"tam stat", model.EmploymentFullTime}, {"tam iş günü", model.EmploymentFullTime},
	{"tam məşğulluq", model.EmploymentFullTime}, {"полная занятость", model.EmploymentFullTime},
	{"полный день", model.EmploymentFullTime}, {"полный рабочий день", model.EmploymentFullTime},
	{"part_time", model.EmploymentPartTime}, {"part-time", model.EmploymentPartTime},
	{"part time", model.EmploymentPartTime}, {"parttime", model.EmploymentPartTime},
	{"yarım ştat", model.EmploymentPartTime}, {"yarımştat", model.EmploymentPartTime},
	{"natamam", model.EmploymentPartTime}, {"частичная занятость", model.EmploymentPartTime},
	{"неполный день", model.EmploymentPartTime}, {"неполная занятость", model.EmploymentPartTime},
	{"contractor", model.EmploymentContract}, {"contract", model.EmploymentContract},
	{"freelance", model.EmploymentContract}, {"müqavilə", model.EmploymentContract},
	{"фриланс", model.EmploymentContract}, {"проектная", model.EmploymentContract},
	{"договор", model.EmploymentContract}, {"подряд", model.EmploymentContract},
	{"temporary", model.EmploymentTemporary}, {"temp", model.EmploymentTemporary},
	{"seasonal", model.EmploymentTemporary}, {"müvəqqəti", model.EmploymentTemporary},
	{"временн", model.EmploymentTemporary}, {"сезонн", model.EmploymentTemporary},
	{"internship", model.EmploymentInternship}, {"intern", model.EmploymentInternship},
	{"trainee", model.EmploymentInternship}, {"təcrübə", model.EmploymentInternship},
	{"стажир", model.EmploymentInternship}, {"практика", model.EmploymentInternship},
	{"volunteer", model.EmploymentVolunteer}, {"könüllü", model.EmploymentVolunteer},
	{"волонт", model.EmploymentVolunteer},
	{"per_diem", model.EmploymentOther}, {"other", model.EmploymentOther},
}

// EmploymentType normalises an employment type ("FULL_TIME", "Full time",
// "Tam ştat", "Полная занятость", ...) to one of model.Employment*, or ""
// when s names none of them. For a list ("FULL_TIME, PART_TIME") the first
// recognised one wins.
func EmploymentType(s string) string {
	s = strings.ToLower(Text(s))
	if s == "" {
		return ""
	}
	best, bestAt := "", len(s)+1
	for _, e := range employmentWords {
		if i := strings.Index(s, e.word); i >= 0 && i < bestAt {
			best, bestAt = e.kind, i
		}
	}
	return best
}
