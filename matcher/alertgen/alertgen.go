// Package alertgen generates realistic sets of saved alerts and job
// postings for benchmarks: job titles, skills, cities, companies and
// salaries in Azerbaijani, Russian and English, drawn with a Zipf-like
// spread (a few very popular terms, a long tail of rare ones).
//
// The vocabulary is a hand-written head (real roles, skills and cities in
// three languages) plus a synthetic long tail of rare skills ("tech0421")
// and companies, which stands in for the thousands of niche technologies
// and employers a real corpus has. Both generators are deterministic for a
// seed.
package alertgen

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/birjob/birjob/model"
)

// Roles: each row is one role in English, Azerbaijani and Russian.
var roles = [][3]string{
	{"developer", "proqramçı", "разработчик"}, {"engineer", "mühəndis", "инженер"},
	{"manager", "menecer", "менеджер"}, {"accountant", "mühasib", "бухгалтер"},
	{"sales manager", "satış meneceri", "менеджер по продажам"}, {"designer", "dizayner", "дизайнер"},
	{"analyst", "analitik", "аналитик"}, {"operator", "operator", "оператор"},
	{"teacher", "müəllim", "учитель"}, {"driver", "sürücü", "водитель"},
	{"doctor", "həkim", "врач"}, {"nurse", "tibb bacısı", "медсестра"},
	{"lawyer", "hüquqşünas", "юрист"}, {"hr specialist", "kadr mütəxəssisi", "специалист по кадрам"},
	{"support specialist", "dəstək mütəxəssisi", "специалист поддержки"}, {"cashier", "kassir", "кассир"},
	{"consultant", "məsləhətçi", "консультант"}, {"administrator", "inzibatçı", "администратор"},
	{"programmer", "proqramçı", "программист"}, {"tester", "testçi", "тестировщик"},
	{"devops engineer", "devops mühəndisi", "devops инженер"}, {"architect", "memar", "архитектор"},
	{"translator", "tərcüməçi", "переводчик"}, {"economist", "iqtisadçı", "экономист"},
	{"logistics specialist", "logist", "логист"}, {"courier", "kuryer", "курьер"},
	{"waiter", "ofisiant", "официант"}, {"cook", "aşpaz", "повар"},
	{"security guard", "mühafizəçi", "охранник"}, {"secretary", "katibə", "секретарь"},
	{"marketing specialist", "marketoloq", "маркетолог"}, {"project manager", "layihə meneceri", "менеджер проектов"},
	{"data scientist", "data mütəxəssisi", "специалист по данным"}, {"auditor", "auditor", "аудитор"},
	{"electrician", "elektrik", "электрик"}, {"mechanic", "mexanik", "механик"},
	{"pharmacist", "əczaçı", "фармацевт"}, {"call center operator", "çağrı mərkəzi operatoru", "оператор колл-центра"},
	{"financial analyst", "maliyyə analitiki", "финансовый аналитик"}, {"storekeeper", "anbardar", "кладовщик"},
}

var skillHead = []string{
	"python", "java", "golang", "javascript", "typescript", "react", "angular", "vue", "node.js", "php",
	"laravel", "c#", ".net", "c++", "sql", "postgresql", "oracle", "mysql", "mongodb", "redis",
	"kafka", "docker", "kubernetes", "aws", "azure", "linux", "excel", "1c", "sap", "power bi",
	"tableau", "figma", "photoshop", "autocad", "seo", "smm", "crm", "erp", "ifrs", "acca",
	"english", "russian", "turkish", "german", "swift", "kotlin", "flutter", "django", "spring", "rust",
	"scala", "hadoop", "spark", "airflow", "terraform", "ansible", "jenkins", "git", "jira", "confluence",
	"illustrator", "premiere", "3ds max", "revit", "solidworks", "matlab", "r", "spss", "stata", "qgis",
}

var seniority = []string{"senior", "junior", "middle", "lead", "baş", "aparıcı", "böyük", "ведущий", "старший", "младший"}

var cities = []string{"Bakı", "Baku", "Sumqayıt", "Gəncə", "Баку", "Xırdalan", "Mingəçevir", "Şirvan", "Lənkəran",
	"Şəki", "Naxçıvan", "Quba", "Tbilisi", "İstanbul", "Москва"}

var currencies = []string{"AZN", "AZN", "AZN", "USD", "EUR"}

var filler = strings.Fields(`we are looking for a motivated person to join our team responsibilities include daily
work with clients and reports biz komandamıza məsuliyyətli əməkdaş axtarırıq vəzifələr gündəlik hesabatlar
müştərilərlə iş мы ищем ответственного сотрудника в нашу команду обязанности работа с клиентами отчеты
requirements experience years higher education tələblər iş təcrübəsi ali təhsil требования опыт работы
высшее образование offer competitive salary insurance təklif edirik sığorta предлагаем достойную зарплату`)

// Vocab holds the weighted vocabulary of one generator.
type Vocab struct {
	r                     *rand.Rand
	skill, role, city, co *rand.Zipf
	skills                []string
	companies             []string
}

// TailSkills is the size of the synthetic long tail of rare skills.
const TailSkills = 4000

// New returns a generator for seed.
func New(seed uint64) *Vocab {
	r := rand.New(rand.NewPCG(seed, 0xb1b7))
	v := &Vocab{r: r}
	v.skills = append(v.skills, skillHead...)
	for i := range TailSkills {
		v.skills = append(v.skills, fmt.Sprintf("tech%04d", i))
	}
	for i := range 3000 {
		v.companies = append(v.companies, fmt.Sprintf("Company%04d MMC", i))
	}
	v.companies = append([]string{"PASHA Bank", "Kapital Bank", "ABB", "Azercell", "SOCAR", "Bakcell", "Bank Respublika", "Azersun"}, v.companies...)
	// s slightly above 1 with a flattened head (v): a popular term is
	// popular, but no single word owns a large share of all alerts.
	v.skill = rand.NewZipf(r, 1.1, 20, uint64(len(v.skills)-1))
	v.role = rand.NewZipf(r, 1.1, 10, uint64(len(roles)-1))
	v.city = rand.NewZipf(r, 1.6, 1, uint64(len(cities)-1))
	v.co = rand.NewZipf(r, 1.05, 10, uint64(len(v.companies)-1))
	return v
}

func (v *Vocab) lang() int {
	switch x := v.r.IntN(10); {
	case x < 4:
		return 0
	case x < 8:
		return 1
	}
	return 2
}

func (v *Vocab) roleName(l int) string { return roles[v.role.Uint64()][l] }
func (v *Vocab) skillName() string     { return v.skills[v.skill.Uint64()] }
func (v *Vocab) cityName() string      { return cities[v.city.Uint64()] }

func quoteIfMany(s string) string {
	if strings.Contains(s, " ") || strings.ContainsAny(s, ".") {
		return `"` + s + `"`
	}
	return s
}

// Criteria returns one alert's criteria.
func (v *Vocab) Criteria() model.Criteria {
	r := v.r
	var c model.Criteria
	l := v.lang()
	// Most saved alerts name what and where: a skill and a role, a
	// seniority and a role, with a city; bare one-word alerts are a
	// minority.
	switch x := r.IntN(100); {
	case x < 8:
		c.Query = quoteIfMany(v.skillName())
	case x < 14:
		c.Query = quoteIfMany(v.roleName(l))
	case x < 20:
		c.Query = quoteIfMany(v.roleName(l)) + " " + quoteIfMany(v.companies[v.co.Uint64()])
	case x < 55:
		c.Query = quoteIfMany(v.skillName()) + " " + quoteIfMany(v.roleName(l))
	case x < 65:
		c.Query = `"` + seniority[r.IntN(len(seniority))] + " " + v.roleName(l) + `"`
	case x < 72:
		c.Query = "(" + quoteIfMany(v.skillName()) + " OR " + quoteIfMany(v.skillName()) + ") " + quoteIfMany(v.roleName(l))
	case x < 77:
		c.Query = quoteIfMany(v.roleName(l)) + " -" + seniority[r.IntN(4)]
	case x < 82:
		c.Query = "title:" + quoteIfMany(v.roleName(l))
	case x < 94:
		c.Query = "title:" + quoteIfMany(v.skillName()) + " " + quoteIfMany(v.roleName(l))
	case x < 99 || r.IntN(5) > 0:
		c.Query = quoteIfMany(v.skillName()) + " OR " + quoteIfMany(v.skillName())
	default:
		// No query (0.2%): a city and a high salary only.
		c.SalaryMin = &model.SalaryMin{Amount: float64(2000 + 500*r.IntN(10)), Currency: "AZN", Period: "month"}
	}
	if r.IntN(10) < 8 || c.Query == "" {
		c.Location = v.cityName()
	}
	if r.IntN(10) == 0 {
		t := true
		c.Remote = &t
	}
	if r.IntN(10) < 4 && c.SalaryMin == nil {
		c.SalaryMin = &model.SalaryMin{Amount: float64(500 + 250*r.IntN(30)), Currency: currencies[r.IntN(len(currencies))], Period: "month"}
	}
	if r.IntN(100) < 15 {
		c.EmploymentTypes = []string{[]string{model.EmploymentFullTime, model.EmploymentPartTime, model.EmploymentContract}[r.IntN(3)]}
	}
	if r.IntN(100) < 3 {
		c.ExcludeCompanies = []string{v.companies[v.co.Uint64()]}
	}
	return c
}

// Job returns one job posting.
func (v *Vocab) Job() *model.Job {
	r := v.r
	l := v.lang()
	title := v.roleName(l)
	if r.IntN(2) == 0 {
		title = v.skillName() + " " + title
	}
	if r.IntN(3) == 0 {
		title = seniority[r.IntN(len(seniority))] + " " + title
	}
	var desc strings.Builder
	for range 20 + r.IntN(40) {
		desc.WriteString(filler[r.IntN(len(filler))])
		desc.WriteByte(' ')
	}
	desc.WriteString("Skills: ")
	for i := range 2 + r.IntN(5) {
		if i > 0 {
			desc.WriteString(", ")
		}
		desc.WriteString(v.skillName())
	}
	j := &model.Job{
		Title:          strings.ToUpper(title[:1]) + title[1:],
		Company:        v.companies[v.co.Uint64()],
		Location:       v.cityName(),
		Remote:         r.IntN(10) == 0,
		Description:    desc.String(),
		EmploymentType: []string{model.EmploymentFullTime, model.EmploymentFullTime, model.EmploymentPartTime, "", model.EmploymentContract}[r.IntN(5)],
		Source:         "boss.az",
		URL:            fmt.Sprintf("https://example.az/jobs/%d", r.Int64()),
	}
	if r.IntN(10) < 6 {
		lo := float64(400 + 100*r.IntN(60))
		j.Salary = &model.Salary{Min: lo, Max: lo * (1 + float64(r.IntN(5))/10), Currency: currencies[r.IntN(len(currencies))], Period: "month"}
	}
	return j
}
