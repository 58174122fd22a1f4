/** Facts about other processes on this machine. */

/**
 * True while process `pid` exists: signal 0 probes without sending anything, and EPERM means it exists
 * under another user. Lock and scratch directories name their owner's pid so a dead owner's can be freed.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
