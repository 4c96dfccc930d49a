package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// JobCounts counts every account's jobs by state, for metrics. It decodes
// only each record's state.
func (db *DB) JobCounts(ctx context.Context) (map[JobState]int, error) {
	out := map[JobState]int{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		jobs := tx.Bucket([]byte(bucketJobs))
		return jobs.ForEachBucket(func(uid []byte) error {
			return jobs.Bucket(uid).ForEach(func(_, v []byte) error {
				var rec struct {
					State JobState `json:"state"`
				}
				if err := decode(v, &rec); err != nil {
					return err
				}
				out[rec.State]++
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: job counts: %w", err)
	}
	return out, nil
}
