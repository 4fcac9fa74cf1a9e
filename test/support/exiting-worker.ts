/** A worker thread that exits before it says anything, as one killed by process.exit in a dependency would. */
process.exit(3);
