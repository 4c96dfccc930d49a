package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Schema 4 gives jobs one vocabulary with the provisioning pipeline (issue
// 15). Until schema 3 a job record held its plan as opaque bytes (the JSON
// of the pipeline's own Plan type, whose files kept their directory as
// "TargetDir" and their content base64-encoded), and its services with
// snake-case keys; now the plan is a Plan and the services are Services,
// encoded as everywhere else.

// migrateJobRecords rewrites every job record's plan and services; all its
// other fields stay exactly as they were.
func migrateJobRecords(tx *bolt.Tx) error {
	top := tx.Bucket([]byte(bucketJobs))
	return top.ForEachBucket(func(uid []byte) error {
		b := top.Bucket(uid)
		type kv struct{ k, v []byte }
		var recs []kv
		err := b.ForEach(func(k, v []byte) error {
			nv, err := schema3Job(v)
			if err != nil {
				return fmt.Errorf("job %s: %w", k, err)
			}
			recs = append(recs, kv{append([]byte(nil), k...), nv})
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := b.Put(r.k, r.v); err != nil {
				return err
			}
		}
		return nil
	})
}

// schema3Job converts one schema-3 job record.
func schema3Job(v []byte) ([]byte, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, err
	}
	var planJSON []byte // a JSON string: base64 of the plan's JSON
	if err := json.Unmarshal(rec["plan"], &planJSON); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	plan, err := schema3Plan(planJSON)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	var old []struct {
		Name           string   `json:"name"`
		Unit           string   `json:"unit"`
		Status         string   `json:"status"`
		Ports          []int    `json:"ports"`
		System         bool     `json:"system"`
		CredentialKeys []string `json:"credential_keys"`
	}
	if s, ok := rec["services"]; ok {
		if err := json.Unmarshal(s, &old); err != nil {
			return nil, fmt.Errorf("services: %w", err)
		}
		svcs := make([]Service, len(old))
		for i, o := range old {
			svcs[i] = Service{Name: o.Name, Unit: o.Unit, Status: o.Status, Ports: o.Ports, System: o.System, CredentialKeys: o.CredentialKeys}
		}
		if rec["services"], err = json.Marshal(svcs); err != nil {
			return nil, err
		}
	}
	if rec["plan"], err = json.Marshal(plan); err != nil {
		return nil, err
	}
	return json.Marshal(rec)
}

// schema3Plan reads the pipeline's old plan JSON. Its keys match Plan's
// (JSON matches names without regard to case) but for a file's directory
// and content; its scripts were all enabled.
func schema3Plan(b []byte) (Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return Plan{}, err
	}
	var old struct {
		Files []struct {
			TargetDir string
			Content   []byte
		}
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return Plan{}, err
	}
	for i, f := range old.Files {
		p.Files[i].TargetDir, p.Files[i].Content = f.TargetDir, string(f.Content)
	}
	for i := range p.Scripts {
		p.Scripts[i].Enabled = true
	}
	return p, nil
}
