const unused = 1;
console.log(missing)
