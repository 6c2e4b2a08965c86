'use strict';
// Create Branch in JavaScript, throwing.

exports.handler = async () => {
  throw new Error('no branches today');
};
