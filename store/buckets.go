package store

// Top-level bucket names. Every name listed in topLevelBuckets is created
// (if missing) each time the database opens, so adding a bucket needs only a
// new constant here and an entry in the slice; a schema migration is needed
// only when existing records must change.
const (
	bucketMeta         = "meta"          // schema version, key check value
	bucketUsers        = "users"         // user id → userRecord
	bucketUsernames    = "usernames"     // lower-case username → user id
	bucketSessions     = "sessions"      // SHA-256(session id) → sessionRecord
	bucketUserSessions = "user_sessions" // nested per user id: SHA-256(session id) → empty
	bucketNodes        = "nodes"         // nested per user id: node id → nodeRecord
	bucketContainers   = "containers"    // nested per user id: container id → containerRecord
	bucketSSHKeys      = "sshkeys"       // nested per user id: SHA256 fingerprint → sshKeyRecord
	bucketAudit        = "audit"         // big-endian time + sequence → auditRecord
	bucketTemplates    = "templates"     // nested per user id: template id → templateRecord
	bucketPkgBuckets   = "buckets"       // nested per user id: package bucket id → bucketRecord
	bucketEvents       = "events"        // big-endian seq → eventRecord
	bucketEventsByCt   = "events_by_ct"  // user\x00node\x00vmid(8)seq(8) → event type
	bucketEventsByJob  = "events_by_job" // user\x00job\x00seq(8) → empty
	bucketJobs         = "jobs"          // nested per user id: job id → jobRecord
	bucketJobLogs      = "job_logs"      // nested per job id: big-endian line number → logLine
	bucketInvites      = "invites"       // SHA-256(invite token) → inviteRecord
)

// topLevelBuckets is every bucket created on open.
var topLevelBuckets = []string{
	bucketMeta,
	bucketUsers,
	bucketUsernames,
	bucketSessions,
	bucketUserSessions,
	bucketNodes,
	bucketContainers,
	bucketSSHKeys,
	bucketAudit,
	bucketTemplates,
	bucketPkgBuckets,
	bucketEvents,
	bucketEventsByCt,
	bucketEventsByJob,
	bucketJobs,
	bucketJobLogs,
	bucketInvites,
}
