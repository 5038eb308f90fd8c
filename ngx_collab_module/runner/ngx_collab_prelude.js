/*
 * Copyright (C) collab
 *
 * The part of a workflow's globals written in JavaScript, run first in
 * every execution's context as a function given the runner's native
 * functions (they stay in this closure and are never globals): console,
 * timers, crypto, TextEncoder and TextDecoder, atob and btoa, the lazy
 * URL, URLSearchParams and fetch, and the read-only bindings.  It returns
 * the bindings object and describe(), which the runner uses for errors.
 *
 * The larger parts, console formatting (ngx_collab_inspect.js), URL
 * (ngx_collab_url.js) and fetch (ngx_collab_fetchapi.js), load on first
 * use: most workflows need few of them, and every execution starts in a
 * fresh context.
 */

(function (native) {
    'use strict';

    const ObjectKeys = Object.keys;
    const ObjectGetPrototypeOf = Object.getPrototypeOf;
    const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
    const ObjectGetOwnPropertyNames = Object.getOwnPropertyNames;
    const ObjectGetOwnPropertySymbols = Object.getOwnPropertySymbols;
    const ObjectPrototypeHasOwnProperty = Object.prototype.hasOwnProperty;
    const ObjectPrototypeToString = Object.prototype.toString;
    const ObjectPrototypePropertyIsEnumerable =
        Object.prototype.propertyIsEnumerable;
    const ObjectDefineProperty = Object.defineProperty;
    const ObjectFreeze = Object.freeze;
    const ObjectIs = Object.is;
    const ArrayIsArray = Array.isArray;
    const FunctionPrototypeToString = Function.prototype.toString;
    const RegExpPrototypeToString = RegExp.prototype.toString;
    const DatePrototypeToISOString = Date.prototype.toISOString;
    const DatePrototypeGetTime = Date.prototype.getTime;
    const ErrorPrototypeToString = Error.prototype.toString;
    const JSONParse = JSON.parse;
    const JSONStringify = JSON.stringify;
    const MathMax = Math.max;
    const MathMin = Math.min;
    const MathRound = Math.round;
    const MathSqrt = Math.sqrt;
    const MathFloor = Math.floor;
    const NumberIsNaN = Number.isNaN;
    const StringFromCharCode = String.fromCharCode;
    const PromiseCtor = Promise;
    const PromiseResolve = Promise.resolve.bind(Promise);
    const MapCtor = Map;
    const SetCtor = Set;
    const Uint8ArrayCtor = Uint8Array;
    const ArrayBufferCtor = ArrayBuffer;
    const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
    const TypedArrayProtoToStringTag = ObjectGetOwnPropertyDescriptor(
        TypedArrayPrototype, Symbol.toStringTag).get;
    const ArrayBufferIsView = ArrayBuffer.isView;
    const MapPrototypeSize =
        ObjectGetOwnPropertyDescriptor(Map.prototype, 'size').get;
    const SetPrototypeSize =
        ObjectGetOwnPropertyDescriptor(Set.prototype, 'size').get;
    const MapPrototypeEntries = Map.prototype.entries;
    const SetPrototypeValues = Set.prototype.values;
    const ArrayBufferByteLength = ObjectGetOwnPropertyDescriptor(
        ArrayBuffer.prototype, 'byteLength').get;
    const SymbolPrototypeToString = Symbol.prototype.toString;
    const SymbolToStringTag = Symbol.toStringTag;
    const SymbolIterator = Symbol.iterator;

    function call(f, self, ...args) {
        return Reflect.apply(f, self, args);
    }

    function define(obj, name, value) {
        ObjectDefineProperty(obj, name, {
            value: value, writable: true, configurable: true,
            enumerable: false
        });
    }

    function hex2(c) {
        const s = c.toString(16).toUpperCase();
        return s.length < 2 ? '0' + s : s;
    }

    function classOf(value) {
        return call(ObjectPrototypeToString, value).slice(8, -1);
    }

    function isError(value) {
        return value instanceof Error || classOf(value) === 'Error';
    }

    function isTypedArray(value) {
        return ArrayBufferIsView(value)
               && call(TypedArrayProtoToStringTag, value) !== undefined;
    }

    function errorStack(err) {
        let name, message, stack;

        try {
            name = err.name === undefined ? 'Error' : '' + err.name;
            message = err.message === undefined ? '' : '' + err.message;
            stack = typeof err.stack === 'string' ? err.stack : '';

        } catch (e) {
            return call(ErrorPrototypeToString, err);
        }

        let head = message === '' ? name : name + ': ' + message;

        /* in the workflow's own positions, without the runtime's frames */
        stack = native.mapStack(stack);

        if (stack !== '') {
            head += '\n' + stack;
        }

        return head;
    }

    /* ---------------------------------------------------------------- */
    /* the parts loaded on first use                                     */

    const libs = {};

    function lib(name) {
        let l = libs[name];

        if (l === undefined) {
            l = native.load(name)(native, shared);
            libs[name] = l;
        }

        return l;
    }

    function defineLazy(obj, name, part, member) {
        ObjectDefineProperty(obj, name, {
            configurable: true,
            enumerable: false,
            get() {
                const value = lib(part)[member];
                define(obj, name, value);
                return value;
            },
            set(value) {
                define(obj, name, value);
            }
        });
    }

    /* ---------------------------------------------------------------- */
    /* console                                                           */

    /* strings alone are printed as they are: no formatting to load */
    function format(args) {
        for (let i = 0; i < args.length; i++) {
            if (typeof args[i] !== 'string'
                || (i === 0 && args.length > 1 && args[0].indexOf('%') !== -1))
            {
                return lib('inspect').format(args);
            }
        }

        return args.join(' ');
    }

    const console = {};

    ['log', 'info', 'warn', 'error', 'debug'].forEach(function (level) {
        define(console, level, {
            [level](...args) {
                native.log(level, format(args));
            }
        }[level]);
    });

    define(globalThis, 'console', console);

    /* ---------------------------------------------------------------- */
    /* timers and crypto                                                 */

    define(globalThis, 'setTimeout', native.setTimeout);
    define(globalThis, 'clearTimeout', native.clearTimeout);

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

    define(globalThis, 'crypto', crypto);

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

    define(globalThis, 'TextEncoder', TextEncoder);
    define(globalThis, 'TextDecoder', TextDecoder);

    const b64 =
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

    function invalidCharacter(what) {
        const e = new Error(what);
        e.name = 'InvalidCharacterError';
        return e;
    }

    define(globalThis, 'btoa', function btoa(data) {
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
    });

    define(globalThis, 'atob', function atob(data) {
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
    });


    /* ---------------------------------------------------------------- */
    /* URL, URLSearchParams and fetch                                    */

    defineLazy(globalThis, 'URL', 'url', 'URL');
    defineLazy(globalThis, 'URLSearchParams', 'url', 'URLSearchParams');

    define(globalThis, 'fetch', function fetch(input, init) {
        return lib('fetch').fetch(input, init);
    });

    const shared = {
        ObjectKeys, ObjectGetPrototypeOf, ObjectGetOwnPropertyDescriptor,
        ObjectGetOwnPropertyNames, ObjectGetOwnPropertySymbols,
        ObjectPrototypeHasOwnProperty, ObjectPrototypeToString,
        ObjectPrototypePropertyIsEnumerable, ObjectDefineProperty,
        ObjectFreeze, ObjectIs, ArrayIsArray, FunctionPrototypeToString,
        RegExpPrototypeToString, DatePrototypeToISOString,
        DatePrototypeGetTime, ErrorPrototypeToString, JSONParse,
        JSONStringify, MathMax, MathMin, MathRound, MathSqrt, MathFloor,
        NumberIsNaN, StringFromCharCode, PromiseCtor, PromiseResolve, MapCtor,
        SetCtor, Uint8ArrayCtor, ArrayBufferCtor, TypedArrayPrototype,
        TypedArrayProtoToStringTag, ArrayBufferIsView, MapPrototypeSize,
        SetPrototypeSize, MapPrototypeEntries, SetPrototypeValues,
        ArrayBufferByteLength, SymbolPrototypeToString, SymbolToStringTag,
        SymbolIterator, call, define, hex2, classOf, isError, isTypedArray,
        errorStack, bufferBytes, TextEncoder, TextDecoder, lib
    };

    /* ---------------------------------------------------------------- */
    /* bindings                                                          */

    function answer(f) {
        return new PromiseCtor(function (resolve) {
            resolve(f());
        });
    }

    function parsed(text) {
        return text === null ? null : JSONParse(text);
    }

    function name(value, what) {
        if (typeof value !== 'string') {
            throw new TypeError(what + ' must be a string');
        }

        return value;
    }

    const bindings = ObjectFreeze({
        store: ObjectFreeze({
            get(store, key) {
                return answer(function () {
                    return parsed(native.storeGet(
                        name(store, 'store.get: the store name'),
                        name(key, 'store.get: the key')));
                });
            },
            getAll(store) {
                return answer(function () {
                    return parsed(native.storeGetAll(
                        name(store, 'store.getAll: the store name')));
                });
            }
        }),
        room: ObjectFreeze({
            get() {
                return answer(function () {
                    return parsed(native.roomGet());
                });
            },
            getUsers() {
                return answer(function () {
                    return parsed(native.roomUsers());
                });
            }
        }),
        files: ObjectFreeze({
            list() {
                return answer(function () {
                    return parsed(native.filesList());
                });
            }
        })
    });

    return [bindings, function describe(value) {
        if (typeof value === 'object' && value !== null && isError(value)) {
            let message;

            try {
                message = value.message === undefined ? ''
                                                      : '' + value.message;

            } catch (e) {
                message = '';
            }

            return [message, errorStack(value)];
        }

        return [typeof value === 'string' ? value
                                           : lib('inspect').inspect(value),
                null];
    }];
})
