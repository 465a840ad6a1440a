// A test file that runs no test.
export const nothing = 0;
