/*
 * Copyright (C) collab
 *
 * The part of a workflow's globals written in JavaScript, run first in
 * every execution's context as a function given the runner's native
 * functions (they stay in this closure and are never globals).  It
 * installs console, the timers and the read-only bindings, and puts
 * every other global in place as a getter that loads its part on first
 * use: console formatting (ngx_collab_inspect.js), TextEncoder,
 * TextDecoder, atob, btoa and crypto (ngx_collab_text.js), URL and
 * URLSearchParams (ngx_collab_url.js), fetch (ngx_collab_fetchapi.js).
 * Every execution starts in a fresh context, and most workflows use few
 * of these: this part is kept small.  A part it loads is called with
 * the natives, lib() (to load another part) and the built-ins taken here
 * before the workflow ran (named by ngx_collab_builtins.js).  It returns
 * the bindings object and describe(), which the runner uses for errors.
 */

(function (native) {
    'use strict';

    const ObjectDefineProperty = Object.defineProperty;
    const ObjectFreeze = Object.freeze;
    const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
    const JSONParse = JSON.parse;
    const PromiseCtor = Promise;

    function define(obj, name, value) {
        ObjectDefineProperty(obj, name, {
            value: value, writable: true, configurable: true,
            enumerable: false
        });
    }

    /*
     * The built-ins the parts use, taken here, before any workflow code
     * runs: a workflow may replace Object.keys or Reflect.apply, and the
     * parts, loaded later, still use the originals.  This is done in
     * every execution, so it is kept cheap: a bare list, in the order of
     * the names in ngx_collab_builtins.js, which names them (with the
     * helpers built on them) when the first part loads; and nothing of
     * Math, which would be built whole (the parts do without it).
     */
    const taken = [
        ObjectDefineProperty,
        ObjectFreeze,
        ObjectGetOwnPropertyDescriptor,
        Object.keys,
        Object.getPrototypeOf,
        Object.getOwnPropertySymbols,
        Object.prototype.hasOwnProperty,
        Object.prototype.propertyIsEnumerable,
        Object.prototype.toString,
        Object.is,
        Reflect.apply,
        Array.isArray,
        Function.prototype.toString,
        RegExp.prototype.toString,
        Date.prototype.toISOString,
        Date.prototype.getTime,
        Error,
        Error.prototype.toString,
        JSONParse,
        JSON.stringify,
        Number.isNaN,
        String.fromCharCode,
        PromiseCtor,
        Map,
        Set,
        Uint8Array,
        ArrayBuffer,
        ArrayBuffer.isView,
        ObjectGetOwnPropertyDescriptor(
            Object.getPrototypeOf(Uint8Array.prototype),
            Symbol.toStringTag).get,
        ObjectGetOwnPropertyDescriptor(Map.prototype, 'size').get,
        ObjectGetOwnPropertyDescriptor(Set.prototype, 'size').get,
        Map.prototype.entries,
        Set.prototype.values,
        ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype,
                                       'byteLength').get,
        Symbol.prototype.toString,
        Symbol.toStringTag,
        Symbol.iterator,
        define
    ];

    let builtins;

    const libs = { __proto__: null };

    function lib(name) {
        let l = libs[name];

        if (l === undefined) {
            if (builtins === undefined) {
                builtins = native.load('builtins')(taken);
            }

            l = native.load(name)(native, lib, builtins);
            libs[name] = l;
        }

        return l;
    }

    function defineLazy(name, part) {
        ObjectDefineProperty(globalThis, name, {
            configurable: true,
            enumerable: false,
            get() {
                const value = lib(part)[name];
                define(globalThis, name, value);
                return value;
            },
            set(value) {
                define(globalThis, name, value);
            }
        });
    }

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

    define(globalThis, 'console', {
        log(...args) { native.log('log', format(args)); },
        info(...args) { native.log('info', format(args)); },
        warn(...args) { native.log('warn', format(args)); },
        error(...args) { native.log('error', format(args)); },
        debug(...args) { native.log('debug', format(args)); }
    });

    define(globalThis, 'setTimeout', native.setTimeout);
    define(globalThis, 'clearTimeout', native.clearTimeout);

    defineLazy('TextEncoder', 'text');
    defineLazy('TextDecoder', 'text');
    defineLazy('atob', 'text');
    defineLazy('btoa', 'text');
    defineLazy('crypto', 'text');
    defineLazy('URL', 'url');
    defineLazy('URLSearchParams', 'url');

    define(globalThis, 'fetch', function fetch(input, init) {
        return lib('fetch').fetch(input, init);
    });

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
        return lib('inspect').describe(value);
    }];
})
