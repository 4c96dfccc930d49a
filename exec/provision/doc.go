// Package provision creates containers: the Runner takes the Plan the
// wizard's Review step showed, stores it as a job, and runs its steps
// (create, features, start, the clean snapshot, files, packages, scripts,
// discovery) a few jobs at a time, saving each finished step so a
// restarted Corral resumes where it stopped (Recover). Every step's output
// streams to the job log, which the progress page follows (Subscribe).
package provision
