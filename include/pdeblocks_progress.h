/*
 * pdeblocks_progress.h — progress reports and cancellation of long-running calls
 * (included by pdeblocks.h; its conventions apply).
 *
 * A handler installed with pdb_set_progress on a thread is used by the long-running
 * calls made on THAT thread afterwards, until it is replaced or removed; calls on
 * other threads do not see it. The existing entry points keep their signatures.
 *
 *     static int32_t report(void *user_data, int64_t done, int64_t total, double value) {
 *         struct job *job = user_data;
 *         fprintf(stderr, "\r%lld / %lld", (long long)done, (long long)total);
 *         return job->stop_requested;            // nonzero cancels
 *     }
 *     ...
 *     pdb_set_progress(report, &job, 0.5);       // at most every 0.5 s (and at the end)
 *     int32_t status = pdb_explicit(...);        // PDB_ERR_CANCELLED if report returned 1
 *     pdb_set_progress(NULL, NULL, 0);           // remove
 *
 * Calls that report (all others ignore the handler), with their work units; `done`
 * counts up to `total`, summed over the rows of a batch:
 *
 *   pdb_explicit          steps * rows                  total = steps * batch
 *   pdb_fsi, pdb_fed      inner steps * rows            total = cycles * cycle_length * batch
 *   pdb_implicit          time steps * rows             value = the last step's final update
 *   pdb_evolve            those of the scheme it runs
 *   pdb_semi_implicit     steps * rows                  value = PDB_SEMI_MULTIGRID: the last
 *                                                               step's relative residual
 *   pdb_mg_solve          cycles                        total = max_cycles (an upper bound)
 *   pdb_cg                iterations                    total = max_iter (an upper bound)
 *                         value (both) = the relative residual ||b - A x|| / ||b||
 *   pdb_network_forward, pdb_network_backward
 *                         blocks * rows                 total = blocks * batch
 *
 * `value` is NaN where none is listed. `total` is -1 when it is unknown (it does not
 * fit an int64). The solvers stop early when they converge: their final report has
 * total = done (the cycles or iterations performed), so every call that completes
 * ends with a report of done == total.
 *
 * The callback:
 *   - is called at most every interval_seconds while the call runs (never before
 *     interval_seconds have passed since the call started), and once at the end;
 *   - may be called from a worker thread of the library (not the calling thread), but
 *     never concurrently with itself: calls are ordered, so state behind user_data
 *     needs no lock of its own against them;
 *   - runs with NO handler installed on its thread: a library call made inside the
 *     callback does not inherit the handler (it neither reports into the outer
 *     call's counts nor can be cancelled by it); the handler is reinstalled when the
 *     callback returns (one the callback itself installs with pdb_set_progress is
 *     removed then);
 *   - must not call into the library for the object being worked on (a network
 *     handle is locked during its forward/backward pass: that would deadlock), and
 *     should return quickly (workers wait only if they want to report too).
 *
 * Cancellation. A nonzero return (also from the final report) cancels the call: it
 * stops at the next step boundary (between steps, inner steps, sweeps, cycles,
 * iterations or blocks; every worker thread checks) and returns PDB_ERR_CANCELLED;
 * pdb_last_error() then says how much work was done, e.g.
 *   "explicit scheme: cancelled by the progress callback after 1024 of 100000 steps·rows".
 * Outputs are unchanged, as for every other failure: while a handler is installed,
 * these calls compute into scratch memory of the output's size (one extra allocation
 * and copy per call) and write `out` (solvers: `x`; pdb_network_backward: grad_in and
 * grad_params) and the report/sweeps/residual/cycles outputs only when they complete.
 * The one exception is the `history` array of pdb_explicit/pdb_fsi/pdb_fed: it holds
 * the states recorded before the cancellation; slots of states not reached keep their
 * previous contents. A cancelled recording pdb_network_forward (without
 * PDB_FORWARD_INFERENCE) leaves no recorded forward pass: pdb_network_backward fails
 * until the next one; a cancelled pdb_network_backward leaves the recorded pass usable.
 *
 * Cost and granularity: without a handler, one branch per step. With one, workers add
 * their finished units to a shared counter and read the clock about once per 32768
 * samples of WORK (not units): an implicit step counts its sweeps * n, a network
 * block its filters' taps * n (times its inner steps or sweeps), a semi-implicit step
 * its multigrid cycles. So the callback is consulted (at most every interval_seconds)
 * and a cancel it returns is honoured after a bounded amount of work, however many
 * sweeps a step has; a single unit that cannot be split (one explicit step of a very
 * long signal, one multigrid cycle, one CG iteration) is the exception.
 */
#ifndef PDEBLOCKS_PROGRESS_H
#define PDEBLOCKS_PROGRESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* (user_data as given to pdb_set_progress, work units done, total units or -1,
 * a call-specific figure or NaN) -> 0 to continue, nonzero to cancel. */
typedef int32_t (*pdb_progress_fn)(void *user_data, int64_t done, int64_t total, double value);

/* Installs fn as this thread's progress handler for subsequent calls (replacing any
 * previous one); fn == NULL removes it (user_data and interval_seconds are then
 * ignored). interval_seconds >= 0 is the minimum time between two reports (0: as
 * often as the workers look at the clock; +Inf: only the final report); negative or
 * NaN gives PDB_ERR_INVALID and leaves the installed handler as it was. The library
 * keeps user_data (never dereferenced) until the handler is replaced or removed, or
 * the thread exits. */
int32_t pdb_set_progress(pdb_progress_fn fn, void *user_data, double interval_seconds);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_PROGRESS_H */
