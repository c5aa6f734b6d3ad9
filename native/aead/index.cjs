'use strict';
// The compiled module (node-gyp build of aead.c); src/crypto/native.ts falls back to node:crypto without it.
module.exports = require('./build/Release/aead.node');
