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
 * of these: this part is kept small.  It returns the bindings object and
 * describe(), which the runner uses for errors.
 */

(function (native) {
    'use strict';

    const ObjectDefineProperty = Object.defineProperty;
    const ObjectFreeze = Object.freeze;
    const JSONParse = JSON.parse;
    const PromiseCtor = Promise;

    function define(obj, name, value) {
        ObjectDefineProperty(obj, name, {
            value: value, writable: true, configurable: true,
            enumerable: false
        });
    }

    const libs = {};

    function lib(name) {
        let l = libs[name];

        if (l === undefined) {
            l = native.load(name)(native, lib);
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
