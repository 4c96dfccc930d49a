package store

import bolt "go.etcd.io/bbolt"

// Schema 3 gives accounts a role (issue 16): the oldest account, the one
// that ran setup, becomes the administrator and the others members. The
// disabled flag and last sign-in start empty.

// migrateRoles sets the role of every account that has none.
func migrateRoles(tx *bolt.Tx) error {
	first, err := firstUserID(tx)
	if err != nil {
		return err
	}
	users := tx.Bucket([]byte(bucketUsers))
	var recs []userRecord
	err = users.ForEach(func(_, v []byte) error {
		var rec userRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec.Role != "" {
			continue
		}
		rec.Role = RoleMember
		if rec.ID == first {
			rec.Role = RoleAdmin
		}
		if err := put(users, []byte(rec.ID), rec); err != nil {
			return err
		}
	}
	return nil
}
