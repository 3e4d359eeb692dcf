package matcher_test

import (
	"fmt"

	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/model"
)

func ExampleParseQuery() {
	q, err := matcher.ParseQuery(`title:(Golang OR Go) "Backend Developer" -Junior`)
	fmt.Println(q, err)
	_, err = matcher.ParseQuery(`senior "go developer`)
	fmt.Println(err)
	// Output:
	// ((title:golang OR title:go) "backend developer" -junior) <nil>
	// unclosed quote at 7
}

func ExampleIndex() {
	ix := matcher.NewIndex()
	ix.Add(1, matcher.Owner{UserID: 10}, model.Criteria{Query: "mühəndis", Location: "Baku"})
	ix.Add(2, matcher.Owner{UserID: 11}, model.Criteria{Query: "python -senior", SalaryMin: &model.SalaryMin{Amount: 1500, Currency: "USD"}})
	job := &model.Job{Title: "BAŞ MÜHƏNDİS", Location: "Bakı", Salary: &model.Salary{Min: 3000, Currency: "AZN"}}
	fmt.Println(ix.Match(job))
	// Output:
	// [{1 {10}}]
}
