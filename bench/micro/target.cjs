// Micro-benchmark target: a module with a cheap function, a class and a constant.
module.exports = {
  add: (a, b) => a + b,
  Point: class Point {
    constructor(x) {
      this.x = x;
    }
  },
  limit: 3,
};
