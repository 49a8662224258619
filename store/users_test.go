package store

import (
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

func TestUsers(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	u := voucherwatch.User{ID: "u_1", Name: "长沙审核员", Role: voucherwatch.RoleCityReviewer, City: "430100"}
	p := voucherwatch.User{ID: "u_2", Name: "省级审核员", Role: voucherwatch.RoleProvinceReviewer}
	if err := db.CreateUser(ctx, u, voucherwatch.TokenHash("token-1"), workflowT0); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, p, voucherwatch.TokenHash("token-2"), workflowT0); err != nil {
		t.Fatal(err)
	}
	got, err := db.UserByTokenHash(ctx, voucherwatch.TokenHash("token-1"))
	if err != nil || got != u {
		t.Errorf("got %+v, %v, want %+v", got, err, u)
	}
	if _, err := db.UserByTokenHash(ctx, voucherwatch.TokenHash("token-3")); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("unknown token: got %v, want ENOTFOUND", err)
	}
	if _, err := db.UserByTokenHash(ctx, ""); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("empty hash: got %v, want ENOTFOUND", err)
	}
	if got, err := db.User(ctx, "u_2"); err != nil || got != p {
		t.Errorf("got %+v, %v, want %+v", got, err, p)
	}
	all, err := db.Users(ctx)
	if err != nil || len(all) != 2 {
		t.Errorf("got %v, %v, want two users", all, err)
	}
	var hash string
	if err := db.conn.QueryRow(ctx, "SELECT token_hash FROM users WHERE id = 'u_1'").Scan(&hash); err != nil || hash != voucherwatch.TokenHash("token-1") {
		t.Errorf("got stored %q, %v, want only the token's SHA-256", hash, err)
	}
	if err := db.DisableUser(ctx, "u_1", workflowT0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserByTokenHash(ctx, voucherwatch.TokenHash("token-1")); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("disabled user's token: got %v, want ENOTFOUND", err)
	}
	if _, err := db.User(ctx, "u_1"); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("disabled user: got %v, want ENOTFOUND", err)
	}
	if err := db.DisableUser(ctx, "u_1", workflowT0); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("disabling twice: got %v, want ENOTFOUND", err)
	}
}

func TestUserPasswords(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	// Two people called 张伟 in one bureau: the login, not the name, tells them apart.
	a := voucherwatch.User{ID: "u_a", Name: "张伟", Login: "zhangwei", Role: voucherwatch.RoleCityReviewer, City: "430100"}
	b := voucherwatch.User{ID: "u_b", Name: "张伟", Login: "zhangwei2", Role: voucherwatch.RoleCityReviewer, City: "430100"}
	for _, u := range []voucherwatch.User{a, b} {
		if err := db.CreateUser(ctx, u, voucherwatch.TokenHash("token-"+u.ID), workflowT0); err != nil {
			t.Fatal(err)
		}
	}
	if got, hash, err := db.UserByLogin(ctx, "zhangwei"); err != nil || got != a || hash != "" {
		t.Errorf("before a password: got %+v, %q, %v, want %+v without a hash", got, hash, err, a)
	}
	if err := db.SetPassword(ctx, "u_a", "$2a$10$hash-a", workflowT0); err != nil {
		t.Fatal(err)
	}
	if got, hash, err := db.UserByLogin(ctx, "zhangwei"); err != nil || got != a || hash != "$2a$10$hash-a" {
		t.Errorf("got %+v, %q, %v, want %+v with its hash", got, hash, err, a)
	}
	if _, hash, err := db.UserByLogin(ctx, "zhangwei2"); err != nil || hash != "" {
		t.Errorf("the other 张伟: got %q, %v, want no password", hash, err)
	}
	// Setting a password keeps the token working, even within the same second.
	if got, err := db.UserByTokenHash(ctx, voucherwatch.TokenHash("token-u_a")); err != nil || got != a {
		t.Errorf("token after a password: got %+v, %v", got, err)
	}
	for _, login := range []string{"", "nobody"} {
		if _, _, err := db.UserByLogin(ctx, login); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
			t.Errorf("login %q: got %v, want ENOTFOUND", login, err)
		}
	}
	if err := db.SetPassword(ctx, "u_none", "x", workflowT0); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("unknown user: got %v, want ENOTFOUND", err)
	}
	if err := db.DisableUser(ctx, "u_a", workflowT0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.UserByLogin(ctx, "zhangwei"); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("disabled user signs in: got %v, want ENOTFOUND", err)
	}
}
