/**
 * `ecv <command> --help` (SPEC §8): options with defaults, an example and the exit codes of
 * every command. main.ts prints these before loading a command, so `--help` never has side
 * effects (`ecv migrate --help` does not migrate). Commands not listed here print their own.
 */

const CLIENT = `  --url URL         talk to a service (default: ECV_URL); without one, run in-process on the
                    embedded database (or through the live service that holds its directory)
  --token T         bearer token for --url (default: ECV_TOKEN)
  --data-dir D      embedded database directory (default: ECV_DATA_DIR, else ./data)`;

const GATE_EXITS = 'exit: 0 accept, 1 reject, 3 reanchor (reproductions pending), 2 usage or service error';

export const HELP: Record<string, string> = {
  serve: `usage: ecv serve [--port N] [--host H]

Runs the ECV service (same as npm start) on DATABASE_URL, else the embedded database in
ECV_DATA_DIR (default ./data), which it locks for as long as it runs.

  --port N   port to listen on (default: PORT, else 8080)
  --host H   address to bind (default: HOST, else 127.0.0.1)

example:  ECV_AUTH=on ECV_ADMIN_TOKEN=… ecv serve --port 8080
exit: 0 when stopped (SIGTERM/SIGINT), 2 on a start-up error.`,

  migrate: `usage: ecv migrate

Applies pending SQL migrations (sql/) to DATABASE_URL, else the embedded database in
ECV_DATA_DIR (default ./data), and exits. Safe to run concurrently (migration lock).

example:  DATABASE_URL=postgres://ecv@db/ecv ecv migrate
exit: 0 applied or up to date, 2 on an error.`,

  ingest: `usage: ecv ingest <results.tsv> [--project p] [--git <repo>] [--branch b] [--direction d] [--metric m] [--status-column s] [--strict] [--progress]

Stores a results.tsv in the project (idempotent: unchanged rows are no-ops, changed rows new
versions). With --git, premises and diffs come from the repository's commit graph. The project
comes from --project or ecv.json; ecv.json is the project's config: a difference from the
service's config is printed and written back when the token may (admin, in-process).
Prints the metric, direction, status and key columns it used, with the evidence (names, the
keep chain, decision words; docs/api.md "Ingestion rules"); guesses and skipped lines warn.

  --project, -p p   project name (default: the name in ecv.json; there is no other default)
  --git <repo>      read git lineage (premises, changed paths, diffs) from this repository
  --branch b        branch to read with --git (default: HEAD)
  --direction d     minimize|maximize for a new project (default: the keep chain, else the name)
  --metric m        the metric column for a new project (default: chosen from header and cells)
  --status-column s the column of keep/discard decisions (default: chosen from header and cells)
  --strict          fail on any warning (default: warnings are printed, rows kept)
  --progress        print each step (parse, write, score) on stderr also when it is not a
                    terminal (default: only on a terminal)
${CLIENT}

example:  ecv ingest results.tsv --git .
exit: 0 ingested, 2 usage, invalid file, config mismatch the token may not fix, or service error.`,

  gate: `usage: ecv gate <experiment-key> [--project p] [--threshold t] [--wait s] [--json]

Asks the gate whether to build on an experiment (SPEC §5); every call is recorded.

  --project, -p p   project name (default: ECV_PROJECT, else the name in ecv.json)
  --threshold t     raise the project's threshold on K for this call (default: the project's);
                    lowering it needs an admin token
  --wait s          long-poll up to s seconds while reproductions run (default: 0)
  --json            print the gate answer as JSON
${CLIENT}

example:  ecv gate 3f2a9c1 --wait 900
${GATE_EXITS}.`,

  check: `usage: ecv check [--results file] [--project p] [--branch b] [--threshold t] [--wait s] [--junit file] [--json-out file]

The CI check of an experiment branch: ingests results.tsv with the branch's git lineage, gates
the latest keep, prints a Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set).
Run inside the experiment repository.

  --results file    the log (default: results.tsv at the repository root)
  --project, -p p   project name (default: the name in ecv.json; there is no other default)
  --branch b        branch to read (default: HEAD)
  --direction d     minimize|maximize for a new project (default: the keep chain, else the name)
  --metric m        the metric column for a new project (default: chosen from header and cells)
  --status-column s the column of keep/discard decisions (default: chosen from header and cells)
  --threshold t     raise the project's threshold for this check (default: the project's)
  --wait s          long-poll up to s seconds for reproductions (default: 0)
  --junit file      also write JUnit XML (reject = failure, reanchor = skipped)
  --json-out file   also write the gate answer as JSON (what the GitHub Action reads)
${CLIENT}

example:  ecv check --junit ecv.xml --url https://ecv.example.org
${GATE_EXITS}.`,

  init: `usage: ecv init [--project p] [--metric m] [--direction d] [--threshold t] [--command c]
                [--replicates n] [--time-budget s] [--protect glob …] [--dir d] [--force] [--offline]

Writes ecv.json (the project's config) and the program.md paragraph that tells the agent loop
how to use the gate, and adds an embedded database inside the repository to .gitignore. With a
service (--url), it creates or updates the project there from ecv.json; the embedded database
gets it at the first \`ecv ingest\`. Re-run without options, it keeps ecv.json and brings
program.md and the project in line with it.

  --project, -p p    project name (default: the directory's name, printed)
  --metric m         metric column of results.tsv (default: val_bpb)
  --direction d      minimize|maximize (default: inferred from the metric name)
  --threshold t      gate threshold on K (default: 0.6)
  --command c        reproduction command runners execute (default: 'uv run train.py')
  --replicates n     reproductions per round (default: 3)
  --time-budget s    seconds one reproduction may take (default: 600)
  --protect glob     a path the agent must never change, repeatable (default: prepare.py)
  --dir d            the experiment repository (default: the current directory)
  --force            rewrite an existing ecv.json from the options
  --offline          only write the files; do not create or update the project
${CLIENT}

example:  ecv init --project nanogpt --metric val_bpb --protect prepare.py && git add ecv.json program.md .gitignore && git commit -m "ECV gate"
exit: 0 written (or already consistent), 2 usage error, an existing ecv.json with options but
no --force, or a service error.`,

  token: `usage: ecv token create --role admin|loop|runner|reader [--project p …] [--label text] [--json]
       ecv token list [--json] [--limit n]
       ecv token revoke <id>

Manages API tokens (admin token in --token or ECV_TOKEN). A loop token may ingest and gate its
projects, a runner token only leases and completes jobs, a reader only reads.

  --role r          role of the new token (required for create)
  --project, -p p   project the token reaches, repeatable (default: every project)
  --label text      a note shown by list
  --json            machine-readable output
  --limit n         tokens to list (default: 1000)
${CLIENT}

example:  ecv token create --role loop --project nanogpt --url http://127.0.0.1:8080
exit: 0 done, 2 usage or service error.`,

  runner: `usage: ecv runner --url URL --repo <git dir> [--project p …] [--labels k=v,…] [--concurrency n]
                  [--gpus 0,1,…] [--once] [--name runner-name] [--wait s] [--work-dir dir]
                  [--grace s] [--fetch] [--token T]

Leases re-anchoring jobs from an ECV service (runners cannot reach an embedded database: start
\`ecv serve\` first), runs each in a fresh git worktree of --repo with ECV_SEED set, under the
job's time budget, and reports the metric. SIGTERM/SIGINT: stop leasing and let running jobs
finish; a second signal kills them.

  --url URL          the service (default: ECV_URL; required)
  --token T          runner token (default: ECV_TOKEN)
  --repo dir         git repository holding the experiments' commits (required)
  --project p        lease only this project's jobs, repeatable (default: every project the
                     token reaches)
  --labels k=v,…     labels jobs may require (default: none)
  --concurrency n    jobs at once (default: the number of --gpus, else 1)
  --gpus 0,1,…       CUDA devices, one per slot (default: none set)
  --once             run the jobs of one lease, then exit
  --name name        runner name (default: host name and pid)
  --wait s           long-poll of one lease, seconds (default: 30)
  --work-dir dir     where worktrees go (default: $TMPDIR/ecv-runner)
  --grace s          seconds jobs get to finish after SIGTERM (default: 10)
  --fetch            git fetch a commit missing from --repo

example:  ecv runner --url http://127.0.0.1:8080 --repo . --project nanogpt --gpus 0,1
exit: 0 when stopped or after --once, 2 usage or fatal error.`,

  report: `usage: ecv report [--project p] [--format html|md|json] [--out file] [--max-nodes n]

The audit report of a project (SPEC §10).

  --project, -p p   project name (default: ECV_PROJECT, else the name in ecv.json)
  --format, -f f    html (self-contained), md (fits a PR comment) or json (default: from the
                    --out extension, else md)
  --out, -o file    write to a file (default: stdout)
  --max-nodes n     most experiments drawn in the premise graph (default: 1500)
${CLIENT}

example:  ecv report --format html --out ecv-report.html
exit: 0 written, 2 usage or service error.`,
};

/** Whether argv asks for help (before `--`, which ends the options). */
export function wantsHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}
