/*
 * Copyright (C) collab
 *
 * fetch() of a workflow, in JavaScript: the request (method, Headers,
 * body of a string, bytes or URLSearchParams) checked and handed to the
 * runner's native fetch, and the Response-like answer (status, ok,
 * statusText, headers.get(), text(), json(), arrayBuffer()).  Loaded at
 * the first fetch; returns { fetch }.
 */

(function (native, lib, builtins) {
    'use strict';

    /* the built-ins as they were before the workflow ran */
    const {
        ObjectKeys, JSONParse, Uint8ArrayCtor, ArrayBufferCtor,
        SymbolToStringTag, SymbolIterator, call, classOf, ArrayBufferIsView
    } = builtins;

    /* ---------------------------------------------------------------- */
    /* fetch                                                             */

    class Headers {
        #list;

        constructor(init) {
            this.#list = [];

            if (init === undefined || init === null) {
                return;
            }

            if (init instanceof Headers) {
                init.forEach((value, name) => this.append(name, value));
                return;
            }

            if (typeof init[SymbolIterator] === 'function') {
                for (const pair of init) {
                    const p = [...pair];

                    if (p.length !== 2) {
                        throw new TypeError('Headers: each pair needs a '
                                            + 'name and a value');
                    }

                    this.append(p[0], p[1]);
                }

                return;
            }

            const keys = ObjectKeys(init);

            for (let i = 0; i < keys.length; i++) {
                this.append(keys[i], init[keys[i]]);
            }
        }

        static _list(headers) {
            return headers.#list;
        }

        append(name, value) {
            name = '' + name;
            value = ('' + value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');

            if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
                throw new TypeError('Headers: invalid header name "' + name
                                    + '"');
            }

            if (/[\0\r\n]/.test(value)) {
                throw new TypeError('Headers: invalid value of header "'
                                    + name + '"');
            }

            this.#list.push([name.toLowerCase(), value]);
        }

        delete(name) {
            name = ('' + name).toLowerCase();
            this.#list = this.#list.filter(function (p) {
                return p[0] !== name;
            });
        }

        get(name) {
            name = ('' + name).toLowerCase();

            const values = this.#list.filter(function (p) {
                return p[0] === name;
            });

            if (values.length === 0) {
                return null;
            }

            return values.map(function (p) { return p[1]; }).join(', ');
        }

        getSetCookie() {
            return this.#list.filter(function (p) {
                return p[0] === 'set-cookie';
            }).map(function (p) { return p[1]; });
        }

        has(name) {
            name = ('' + name).toLowerCase();

            return this.#list.some(function (p) { return p[0] === name; });
        }

        set(name, value) {
            this.delete(name);
            this.append(name, value);
        }

        #sorted() {
            const names = [];

            for (let i = 0; i < this.#list.length; i++) {
                if (names.indexOf(this.#list[i][0]) === -1) {
                    names.push(this.#list[i][0]);
                }
            }

            names.sort();

            return names.map((name) => [name, this.get(name)]);
        }

        forEach(callback, thisArg) {
            const sorted = this.#sorted();

            for (let i = 0; i < sorted.length; i++) {
                call(callback, thisArg, sorted[i][1], sorted[i][0], this);
            }
        }

        *entries() {
            yield* this.#sorted();
        }

        *keys() {
            for (const p of this.#sorted()) {
                yield p[0];
            }
        }

        *values() {
            for (const p of this.#sorted()) {
                yield p[1];
            }
        }

        [SymbolIterator]() {
            return this.entries();
        }

        get [SymbolToStringTag]() {
            return 'Headers';
        }
    }

    const headerList = Headers._list;

    delete Headers._list;

    /* UTF-8 as TextDecoder decodes it, without loading TextDecoder */
    function decode(buffer) {
        return native.utf8Decode(new Uint8ArrayCtor(buffer), false, false);
    }

    class Response {
        #body;
        #used;

        constructor(answer) {
            this.status = answer[0];
            this.statusText = answer[1];
            this.url = answer[2];
            this.redirected = answer[3];
            this.headers = new Headers(answer[4]);
            this.ok = this.status >= 200 && this.status <= 299;
            this.type = 'basic';
            this.#body = answer[5];
            this.#used = false;
        }

        get bodyUsed() {
            return this.#used;
        }

        #take() {
            if (this.#used) {
                throw new TypeError('Response: the body was read already');
            }

            this.#used = true;

            return this.#body;
        }

        async arrayBuffer() {
            return this.#take();
        }

        async text() {
            return decode(this.#take());
        }

        async json() {
            return JSONParse(decode(this.#take()));
        }

        async bytes() {
            return new Uint8ArrayCtor(this.#take());
        }

        clone() {
            if (this.#used) {
                throw new TypeError('Response: the body was read already');
            }

            const copy = new Response([this.status, this.statusText,
                                       this.url, this.redirected, [],
                                       this.#body.slice(0)]);
            copy.headers = new Headers(this.headers);

            return copy;
        }

        get [SymbolToStringTag]() {
            return 'Response';
        }
    }

    const methods = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST',
                     'PUT'];

    function requestBody(body, headers) {
        if (body === undefined || body === null) {
            return undefined;
        }

        if (typeof body === 'string') {
            if (!headers.has('content-type')) {
                headers.set('content-type', 'text/plain;charset=UTF-8');
            }

            return native.utf8Encode(body);
        }

        if (classOf(body) === 'URLSearchParams') {
            if (!headers.has('content-type')) {
                headers.set('content-type',
                            'application/x-www-form-urlencoded;'
                            + 'charset=UTF-8');
            }

            return native.utf8Encode(body.toString());
        }

        if (body instanceof ArrayBufferCtor || ArrayBufferIsView(body)) {
            return lib('text').bufferBytes(body, 'fetch').slice();
        }

        if (!headers.has('content-type')) {
            headers.set('content-type', 'text/plain;charset=UTF-8');
        }

        return native.utf8Encode('' + body);
    }

    /*
     * An absolute http(s) URL with a lower-case host, no dot segment and
     * only characters that need no encoding is already what the URL
     * parser would write: the parser is loaded for the others only.
     */
    const plainURL = new RegExp('^https?://[a-z0-9.-]+(:[0-9]{1,5})?'
                                + "(/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$");

    function normalize(url) {
        if (plainURL.test(url) && !/\/\.\.?(\/|\?|$)/.test(url)) {
            return url.indexOf('/', url.indexOf('//') + 2) === -1
                   ? url + '/' : url;
        }

        let parsed;

        try {
            parsed = new (lib('url').URL)(url);

        } catch (e) {
            throw new TypeError('fetch: invalid URL "' + url + '"');
        }

        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
            throw new TypeError('fetch: only http and https URLs can be '
                                + 'fetched, not "' + url + '"');
        }

        if (parsed.username !== '' || parsed.password !== '') {
            throw new TypeError('fetch: a URL with credentials cannot be '
                                + 'fetched: "' + url + '"');
        }

        parsed.hash = '';

        return parsed.href;
    }

    async function fetch(input, init) {
        let url;

        if (classOf(input) === 'URL') {
            url = input.href;

        } else if (typeof input === 'object' && input !== null
                   && typeof input.url === 'string')
        {
            url = input.url;

        } else {
            url = '' + input;
        }

        url = normalize(url);
        init = init === undefined || init === null ? {} : init;

        let method = init.method === undefined ? 'GET' : '' + init.method;

        if (methods.indexOf(method.toUpperCase()) !== -1) {
            method = method.toUpperCase();
        }

        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)
            || method === 'CONNECT' || method === 'TRACE'
            || method === 'TRACK')
        {
            throw new TypeError('fetch: the method "' + method
                                + '" is not allowed');
        }

        const headers = new Headers(init.headers);
        const body = requestBody(init.body, headers);

        if (body !== undefined && (method === 'GET' || method === 'HEAD')) {
            throw new TypeError('fetch: a ' + method + ' request cannot '
                                + 'have a body');
        }

        const answer = await native.fetch(url, method,
                                          headerList(headers), body);

        return new Response(answer);
    }

    return { fetch: fetch };
})
