package store

import "errors"

// Sentinel errors. Methods wrap them with detail, for example
// fmt.Errorf("%w: username %q is taken", ErrConflict, name); callers test
// with errors.Is and may show the wrapped message to the user.
var (
	// ErrNotFound reports a missing record, including another user's record.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports a uniqueness violation (username, node name, ssh key).
	ErrConflict = errors.New("already exists")
	// ErrInvalid reports input that breaks a validation rule; the wrapped
	// message names the rule.
	ErrInvalid = errors.New("invalid")
	// ErrLocked reports that another process holds the database file lock.
	ErrLocked = errors.New("data directory is in use by another corral process")
	// ErrSchemaTooNew reports a database written by a newer corral.
	ErrSchemaTooNew = errors.New("corral.db was written by a newer corral")
	// ErrWrongKey reports that the secret key differs from the one the
	// database was sealed with.
	ErrWrongKey = errors.New("the secret key does not match the one this database was sealed with")
	// ErrUnseal reports a sealed secret that does not open: it was sealed
	// with another key or copied from another record.
	ErrUnseal = errors.New("sealed secret does not open (wrong key, or copied from another record)")
	// ErrBadCredentials reports an unknown user, a wrong password or an
	// unregistered ssh key, without saying which.
	ErrBadCredentials = errors.New("invalid username or password")
	// ErrSetupDone reports that the first account already exists.
	ErrSetupDone = errors.New("setup is already done: an account exists")
	// ErrNodeInUse reports a node still referenced by containers.
	ErrNodeInUse = errors.New("node is in use")
	// ErrDisabled reports a sign-in to a disabled account (with the right
	// password or key, so saying so tells a stranger nothing).
	ErrDisabled = errors.New("this account is disabled")
	// ErrLastAdmin reports a change that would leave no enabled
	// administrator to manage accounts.
	ErrLastAdmin = errors.New("at least one enabled administrator must remain")
	// ErrHasNodes reports deleting an account that still has nodes without
	// saying that its nodes go too.
	ErrHasNodes = errors.New("the account still has nodes")
	// ErrJobRunning reports deleting an account while one of its
	// containers is being created.
	ErrJobRunning = errors.New("a container is being created for the account")
)
