/*
 * Copyright (C) collab
 *
 * TextEncoder and TextDecoder (UTF-8), atob and btoa, and crypto
 * (randomUUID, getRandomValues) of a workflow.  Loaded by the runtime
 * script (ngx_collab_prelude.js) the first time a workflow, or another
 * part, uses one of them.
 */

(function (native, lib, builtins) {
    'use strict';

    /* the built-ins as they were before the workflow ran */
    const {
        StringFromCharCode, Uint8ArrayCtor, ArrayBufferCtor, define,
        isTypedArray, ArrayBufferIsView
    } = builtins;

    /* ---------------------------------------------------------------- */
    /* crypto                                                            */

    const crypto = {};

    define(crypto, 'randomUUID', function randomUUID() {
        return native.randomUUID();
    });

    define(crypto, 'getRandomValues', function getRandomValues(array) {
        if (!isTypedArray(array) || array instanceof Float32Array
            || array instanceof Float64Array)
        {
            throw new TypeError('crypto.getRandomValues: an integer typed '
                                + 'array is expected');
        }

        if (array.byteLength > 65536) {
            throw new RangeError('crypto.getRandomValues: at most 65536 '
                                 + 'bytes at a time');
        }

        native.randomFill(array);

        return array;
    });


    /* ---------------------------------------------------------------- */
    /* TextEncoder, TextDecoder, atob, btoa                              */

    class TextEncoder {
        get encoding() {
            return 'utf-8';
        }

        encode(input) {
            return native.utf8Encode(input === undefined ? '' : '' + input);
        }

        encodeInto(source, destination) {
            if (!(destination instanceof Uint8ArrayCtor)) {
                throw new TypeError('TextEncoder.encodeInto: a Uint8Array '
                                    + 'is expected');
            }

            source = '' + source;

            let read = 0;
            let written = 0;

            for (const ch of source) {
                const bytes = native.utf8Encode(ch);

                if (written + bytes.length > destination.length) {
                    break;
                }

                destination.set(bytes, written);
                written += bytes.length;
                read += ch.length;
            }

            return { read: read, written: written };
        }
    }

    function bufferBytes(input, what) {
        if (input instanceof ArrayBufferCtor) {
            return new Uint8ArrayCtor(input);
        }

        if (ArrayBufferIsView(input)) {
            return new Uint8ArrayCtor(input.buffer, input.byteOffset,
                                      input.byteLength);
        }

        throw new TypeError(what + ': an ArrayBuffer or a view of one is '
                            + 'expected');
    }

    class TextDecoder {
        #fatal;
        #ignoreBOM;

        constructor(label, options) {
            label = label === undefined ? 'utf-8'
                                        : ('' + label).trim().toLowerCase();

            if (label !== 'utf-8' && label !== 'utf8'
                && label !== 'unicode-1-1-utf-8')
            {
                throw new RangeError('TextDecoder: the encoding "' + label
                                     + '" is not supported');
            }

            this.#fatal = !!(options && options.fatal);
            this.#ignoreBOM = !!(options && options.ignoreBOM);
        }

        get encoding() {
            return 'utf-8';
        }

        get fatal() {
            return this.#fatal;
        }

        get ignoreBOM() {
            return this.#ignoreBOM;
        }

        decode(input) {
            if (input === undefined) {
                return '';
            }

            return native.utf8Decode(bufferBytes(input, 'TextDecoder.decode'),
                                     this.#fatal, this.#ignoreBOM);
        }
    }


    const b64 =
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

    function invalidCharacter(what) {
        const e = new Error(what);
        e.name = 'InvalidCharacterError';
        return e;
    }

    function btoa(data) {
        if (arguments.length === 0) {
            throw new TypeError('btoa: 1 argument required');
        }

        data = '' + data;

        let out = '';

        for (let i = 0; i < data.length; i += 3) {
            const a = data.charCodeAt(i);
            const b = i + 1 < data.length ? data.charCodeAt(i + 1) : 0;
            const c = i + 2 < data.length ? data.charCodeAt(i + 2) : 0;

            if (a > 255 || b > 255 || c > 255) {
                throw invalidCharacter('btoa: the string contains characters '
                                       + 'outside of Latin1');
            }

            const v = a << 16 | b << 8 | c;

            out += b64[v >> 18] + b64[(v >> 12) & 63]
                   + (i + 1 < data.length ? b64[(v >> 6) & 63] : '=')
                   + (i + 2 < data.length ? b64[v & 63] : '=');
        }

        return out;
    }

    function atob(data) {
        if (arguments.length === 0) {
            throw new TypeError('atob: 1 argument required');
        }

        data = ('' + data).replace(/[\t\n\f\r ]/g, '');

        if (data.length % 4 === 0) {
            data = data.replace(/==?$/, '');
        }

        if (data.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(data)) {
            throw invalidCharacter('atob: the string is not correctly '
                                   + 'encoded');
        }

        let out = '';
        let v = 0;
        let bits = 0;

        for (let i = 0; i < data.length; i++) {
            v = (v << 6) | b64.indexOf(data[i]);
            bits += 6;

            if (bits >= 8) {
                bits -= 8;
                out += StringFromCharCode((v >> bits) & 255);
            }
        }

        return out;
    }

    return {
        TextEncoder: TextEncoder, TextDecoder: TextDecoder, atob: atob,
        btoa: btoa, crypto: crypto, bufferBytes: bufferBytes
    };
})
