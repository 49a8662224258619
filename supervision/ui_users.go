package supervision

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// usersPage is the data of the user management page.
type usersPage struct {
	Users  []voucherwatch.User
	Roles  []voucherwatch.Role
	Cities []cityOption
	Form   workflow.NewUserRequest // what was typed, after a failure; never the password
	Token  string                  // the new user's API token, shown once after creation
}

// showUsers answers GET /users (province administrators): the users, a form to create one and
// one to set a user's password.
func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, q uiRequest) {
	s.renderUsers(w, r, q, http.StatusOK, "", workflow.NewUserRequest{}, "")
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, q uiRequest, status int, errMsg string, form workflow.NewUserRequest, token string) {
	if !q.user.Role.MayManageUsers() {
		s.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	users, err := s.workflow.Users.Users(r.Context())
	if err != nil {
		s.failPage(w, r, q, err)
		return
	}
	p := usersPage{
		Users: users, Form: form, Token: token,
		Roles: []voucherwatch.Role{voucherwatch.RoleCityReviewer, voucherwatch.RoleProvinceReviewer, voucherwatch.RoleAuditor, voucherwatch.RoleProvinceAdmin},
	}
	p.Form.Password = ""
	for _, code := range sortedCityCodes() {
		p.Cities = append(p.Cities, cityOption{Code: code, Name: voucherwatch.CityName(code)})
	}
	d := s.data(r, q, locale.T("users.title"), "users")
	d.Error = errMsg
	if token != "" {
		d.Flash = locale.T("flash.user")
	}
	d.Page = p
	s.render(w, status, "users", d)
}

// postUser answers POST /users (name, login, role, city, password): the user is created as
// through the API, and the page shows its API token once.
func (s *Server) postUser(w http.ResponseWriter, r *http.Request, q uiRequest) {
	if !q.user.Role.MayManageUsers() {
		s.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	form := workflow.NewUserRequest{
		Name: r.PostFormValue("name"), Login: r.PostFormValue("login"), Role: r.PostFormValue("role"),
		City: r.PostFormValue("city"), Password: r.PostFormValue("password"),
	}
	_, token, err := s.flow().CreateUser(r.Context(), q.user, form)
	if err != nil {
		if voucherwatch.ErrorCode(err) == voucherwatch.EINTERNAL {
			s.failPage(w, r, q, err)
			return
		}
		s.renderUsers(w, r, q, errStatus(err), uiErrorMessage(err), form, "")
		return
	}
	s.renderUsers(w, r, q, http.StatusCreated, "", workflow.NewUserRequest{}, token)
}

// postUserPassword answers POST /users/{id}/password (password): an administrator sets a
// user's password.
func (s *Server) postUserPassword(w http.ResponseWriter, r *http.Request, q uiRequest) {
	err := s.flow().SetPassword(r.Context(), q.user, r.PathValue("id"), r.PostFormValue("password"))
	switch voucherwatch.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/users?flash=password", http.StatusSeeOther)
	case voucherwatch.EINVALID:
		s.renderUsers(w, r, q, errStatus(err), uiErrorMessage(err), workflow.NewUserRequest{}, "")
	default:
		s.failPage(w, r, q, err)
	}
}

// showAccount answers GET /account: the signed-in user changes its own password.
func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, q uiRequest) {
	d := s.data(r, q, locale.T("account.title"), "account")
	s.render(w, http.StatusOK, "account", d)
}

// postAccountPassword answers POST /account/password (password). The session signed in with
// the old password ends with it, so the user signs in again.
func (s *Server) postAccountPassword(w http.ResponseWriter, r *http.Request, q uiRequest) {
	// The current password is asked for, so that a session left open on a shared desk cannot
	// be used to take the account over. Wrong answers count towards the sign-in throttle.
	err := s.checkCurrentPassword(r, q.user)
	if err == nil {
		err = s.flow().SetOwnPassword(r.Context(), q.user, r.PostFormValue("password"))
	}
	switch voucherwatch.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case voucherwatch.EINVALID:
		d := s.data(r, q, locale.T("account.title"), "account")
		d.Error = uiErrorMessage(err)
		s.render(w, http.StatusBadRequest, "account", d)
	default:
		s.failPage(w, r, q, err)
	}
}

// checkCurrentPassword checks the form's current password of u: EINVALID on the field
// current when it is wrong or when the login is paused by the throttle.
func (s *Server) checkCurrentPassword(r *http.Request, u voucherwatch.User) error {
	now := s.workflow.now()
	wrong := voucherwatch.FieldErrorf("current", "the current password is wrong")
	if u.Login == "" || !s.ui.throttle.lockedUntil(u.Login, now).IsZero() {
		return wrong
	}
	_, hash, err := s.workflow.Users.UserByLogin(r.Context(), u.Login)
	if err != nil {
		return err
	}
	if !CheckPassword(hash, r.PostFormValue("current")) {
		s.ui.throttle.failed(u.Login, now)
		return wrong
	}
	return nil
}
