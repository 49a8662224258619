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
