'use strict';
// Merge To Master in JavaScript, looping for ever.

exports.handler = async (event) => {
  for (;;) {
    // never returns
  }
};
