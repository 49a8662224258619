package voucherwatch

// Role is what a user may see and do.
type Role string

// The roles of the supervision workflow.
const (
	RoleProvinceAdmin    Role = "province_admin"    // users and everything else
	RoleProvinceReviewer Role = "province_reviewer" // all cities; final decisions
	RoleCityReviewer     Role = "city_reviewer"     // its own city only
	RoleAuditor          Role = "auditor"           // reads everything, changes nothing
)

// User is an authenticated person or machine acting on the engine.
type User struct {
	ID   string
	Name string
	Role Role
	City string // division code; set for city reviewers
}
