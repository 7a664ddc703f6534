#!/bin/bash
# The design flurm replaces, as a benchmark baseline: a wrapper that runs the command, then
# appends one line per event to the user's ~/.pingchilling (the legacy format of
# docs/spool-protocol.md). No fsync, no doorbell: a scanner finds the line on its next pass.
#   pingchilling.sh CMD [ARGS...]
echo "$$@$(hostname): Started [$*] $(date '+%F %T')" >> ~/.pingchilling
"$@"
rc=$?
echo "$$@$(hostname): Finished [$rc] $(date '+%F %T')" >> ~/.pingchilling
exit $rc
