/*
 * Copyright (C) collab
 *
 * URL and URLSearchParams of a workflow: the WHATWG URL parser (special
 * and opaque schemes, relative references, IPv4 and IPv6 hosts, percent-
 * encoding sets, dot segments), without IDNA: hosts are lower-cased
 * ASCII.  Loaded the first time a workflow uses URL, URLSearchParams or
 * fetch; returns { URL, URLSearchParams }.
 */

(function (native, lib, builtins) {
    'use strict';

    /* the built-ins as they were before the workflow ran */
    const {
        ObjectKeys, ObjectPrototypeHasOwnProperty, NumberIsNaN,
        StringFromCharCode, Uint8ArrayCtor, SymbolToStringTag, SymbolIterator,
        call, hex2
    } = builtins;

    const { TextEncoder, TextDecoder, bufferBytes } = lib('text');


    /* ---------------------------------------------------------------- */
    /* URL and URLSearchParams (WHATWG URL, without IDNA)                */

    const specialPorts = {
        'ftp:': '21', 'file:': '', 'http:': '80', 'https:': '443',
        'ws:': '80', 'wss:': '443'
    };

    function isSpecial(protocol) {
        return call(ObjectPrototypeHasOwnProperty, specialPorts, protocol);
    }

    function invalidURL(input) {
        return new TypeError('Invalid URL: ' + input);
    }

    const encoder = new TextEncoder();

    function percentEncode(str, set) {
        let out = '';

        for (const ch of str) {
            const code = ch.codePointAt(0);

            if (code >= 0x20 && code < 0x7f && set.indexOf(ch) === -1) {
                out += ch;
                continue;
            }

            const bytes = encoder.encode(ch);

            for (let i = 0; i < bytes.length; i++) {
                out += '%' + hex2(bytes[i]);
            }
        }

        return out;
    }

    const fragmentSet = ' "<>`';
    const querySet = ' "#<>';
    const specialQuerySet = ' "#<>\'';
    const pathSet = ' "#<>?`{}';
    const userinfoSet = ' "#<>?`{}/:;=@[\\]^|';

    function percentDecodeBytes(str) {
        const bytes = [];
        const raw = encoder.encode(str);

        for (let i = 0; i < raw.length; i++) {
            if (raw[i] === 37 && i + 2 < raw.length
                && /^[0-9a-fA-F]{2}$/.test(StringFromCharCode(raw[i + 1],
                                                              raw[i + 2])))
            {
                bytes.push(parseInt(StringFromCharCode(raw[i + 1],
                                                       raw[i + 2]), 16));
                i += 2;

            } else {
                bytes.push(raw[i]);
            }
        }

        return new Uint8ArrayCtor(bytes);
    }

    function percentDecode(str) {
        return native.utf8Decode(percentDecodeBytes(str), false, true);
    }

    function parseIPv4Number(part) {
        if (part === '') {
            return NaN;
        }

        let radix = 10;

        if (/^0[xX]/.test(part)) {
            part = part.slice(2);
            radix = 16;

            if (part === '') {
                return 0;
            }

        } else if (part.length > 1 && part[0] === '0') {
            part = part.slice(1);
            radix = 8;
        }

        const re = radix === 16 ? /^[0-9a-fA-F]+$/
                   : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;

        if (!re.test(part)) {
            return NaN;
        }

        return parseInt(part, radix);
    }

    function endsInNumber(host) {
        const parts = host.split('.');

        if (parts[parts.length - 1] === '') {
            if (parts.length === 1) {
                return false;
            }

            parts.pop();
        }

        const last = parts[parts.length - 1];

        return /^[0-9]+$/.test(last) || !NumberIsNaN(parseIPv4Number(last));
    }

    function parseIPv4(host, input) {
        const parts = host.split('.');

        if (parts[parts.length - 1] === '' && parts.length > 1) {
            parts.pop();
        }

        if (parts.length > 4) {
            throw invalidURL(input);
        }

        const numbers = [];

        for (let i = 0; i < parts.length; i++) {
            const n = parseIPv4Number(parts[i]);

            if (NumberIsNaN(n)) {
                throw invalidURL(input);
            }

            numbers.push(n);
        }

        for (let i = 0; i < numbers.length - 1; i++) {
            if (numbers[i] > 255) {
                throw invalidURL(input);
            }
        }

        if (numbers[numbers.length - 1]
            >= 256 ** (5 - numbers.length))
        {
            throw invalidURL(input);
        }

        let ipv4 = numbers[numbers.length - 1];

        for (let i = 0; i < numbers.length - 1; i++) {
            ipv4 += numbers[i] * 256 ** (3 - i);
        }

        const out = [];

        for (let i = 0; i < 4; i++) {
            out.unshift('' + (ipv4 % 256));
            ipv4 = (ipv4 - ipv4 % 256) / 256;
        }

        return out.join('.');
    }

    function parseIPv6(text, input) {
        const pieces = [0, 0, 0, 0, 0, 0, 0, 0];
        let index = 0;
        let compress = null;
        let i = 0;

        if (text[0] === ':') {
            if (text[1] !== ':') {
                throw invalidURL(input);
            }

            i = 2;
            index = 1;
            compress = 1;
        }

        while (i < text.length) {
            if (index === 8) {
                throw invalidURL(input);
            }

            if (text[i] === ':') {
                if (compress !== null) {
                    throw invalidURL(input);
                }

                i++;
                index++;
                compress = index;
                continue;
            }

            let value = 0;
            let length = 0;

            while (length < 4 && i < text.length
                   && /[0-9a-fA-F]/.test(text[i]))
            {
                value = value * 16 + parseInt(text[i], 16);
                i++;
                length++;
            }

            if (text[i] === '.') {
                if (length === 0 || index > 6) {
                    throw invalidURL(input);
                }

                i -= length;

                const v4 = parseIPv4(text.slice(i), input).split('.');

                if (v4.length !== 4 || !/^(\d+\.){3}\d+$/.test(text.slice(i)))
                {
                    throw invalidURL(input);
                }

                pieces[index] = +v4[0] * 256 + +v4[1];
                pieces[index + 1] = +v4[2] * 256 + +v4[3];
                index += 2;
                i = text.length;
                break;
            }

            if (text[i] === ':') {
                i++;

                if (i === text.length) {
                    throw invalidURL(input);
                }

            } else if (i < text.length) {
                throw invalidURL(input);
            }

            pieces[index] = value;
            index++;
        }

        if (compress !== null) {
            let swaps = index - compress;
            index = 7;

            while (index !== 0 && swaps > 0) {
                const t = pieces[compress + swaps - 1];
                pieces[compress + swaps - 1] = pieces[index];
                pieces[index] = t;
                index--;
                swaps--;
            }

        } else if (index !== 8) {
            throw invalidURL(input);
        }

        /* serialize: the longest run of two or more zeros becomes :: */
        let bestStart = -1;
        let bestLen = 1;

        for (let s = 0; s < 8; s++) {
            let e = s;

            while (e < 8 && pieces[e] === 0) {
                e++;
            }

            if (e - s > bestLen) {
                bestStart = s;
                bestLen = e - s;
            }
        }

        let out = '';

        for (let p = 0; p < 8; p++) {
            if (p === bestStart) {
                out += p === 0 ? '::' : ':';
                p += bestLen - 1;
                continue;
            }

            out += pieces[p].toString(16);

            if (p < 7) {
                out += ':';
            }
        }

        return '[' + out + ']';
    }

    function parseHost(host, special, input) {
        if (host[0] === '[') {
            if (host[host.length - 1] !== ']') {
                throw invalidURL(input);
            }

            return parseIPv6(host.slice(1, -1), input);
        }

        if (!special) {
            if (/[\0\t\n\r #/:<>?@[\\\]^|]/.test(host)) {
                throw invalidURL(input);
            }

            return percentEncode(host, '');
        }

        const domain = percentDecode(host).toLowerCase();

        if (domain === ''
            || /[\0-\x20#%/:<>?@[\\\]^|\x7f]/.test(domain))
        {
            throw invalidURL(input);
        }

        if (endsInNumber(domain)) {
            return parseIPv4(domain, input);
        }

        return domain;
    }

    function shortenPath(path, protocol) {
        if (protocol === 'file:' && path.length === 1
            && /^[a-zA-Z]:$/.test(path[0]))
        {
            return;
        }

        path.pop();
    }

    function isSingleDot(s) {
        return s === '.' || s.toLowerCase() === '%2e';
    }

    function isDoubleDot(s) {
        s = s.toLowerCase();
        return s === '..' || s === '.%2e' || s === '%2e.' || s === '%2e%2e';
    }

    function parsePath(text, special, path, protocol) {
        const segments = special ? text.split(/[/\\]/) : text.split('/');

        for (let i = 0; i < segments.length; i++) {
            const seg = segments[i];
            const last = i === segments.length - 1;

            if (isDoubleDot(seg)) {
                shortenPath(path, protocol);

                if (last) {
                    path.push('');
                }

            } else if (isSingleDot(seg)) {
                if (last) {
                    path.push('');
                }

            } else {
                path.push(percentEncode(seg, pathSet));
            }
        }
    }

    /* url record: protocol, username, password, host (null: none), port,
       path (array, or a string for an opaque path), query, fragment */

    function parseURL(input, base) {
        const original = input;

        input = ('' + input).replace(/^[\0-\x20]+|[\0-\x20]+$/g, '')
                            .replace(/[\t\n\r]/g, '');

        const url = {
            protocol: '', username: '', password: '', host: null, port: '',
            path: [], query: null, fragment: null
        };

        let rest = input;
        const hash = rest.indexOf('#');

        if (hash !== -1) {
            url.fragment = percentEncode(rest.slice(hash + 1), fragmentSet);
            rest = rest.slice(0, hash);
        }

        const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);

        if (m) {
            url.protocol = m[1].toLowerCase() + ':';
            rest = rest.slice(m[0].length);
            const special = isSpecial(url.protocol);

            if (special && base && base.protocol === url.protocol
                && !/^[/\\]/.test(rest) && url.protocol !== 'file:')
            {
                return parseRelative(url, rest, base, original);
            }

            if (special) {
                rest = rest.replace(/^[/\\]*/, '');
                return parseAuthority(url, rest, original);
            }

            if (rest.slice(0, 2) === '//') {
                return parseAuthority(url, rest.slice(2), original);
            }

            splitQuery(url, rest);

            if (url.path.length === 0 || url.path[0] !== '/') {
                url.path = percentEncode(url.path, '');
                return url;
            }

            const path = [];
            parsePath(url.path.slice(1), false, path, url.protocol);
            url.path = path;

            return url;
        }

        if (!base) {
            throw invalidURL(original);
        }

        if (typeof base.path === 'string') {
            if (hash === -1 || rest !== '') {
                throw invalidURL(original);
            }

            url.protocol = base.protocol;
            url.path = base.path;
            url.query = base.query;
            return url;
        }

        url.protocol = base.protocol;

        return parseRelative(url, rest, base, original);
    }

    function splitQuery(url, rest) {
        const q = rest.indexOf('?');

        if (q !== -1) {
            url.query = percentEncode(rest.slice(q + 1),
                                      isSpecial(url.protocol)
                                      ? specialQuerySet : querySet);
            rest = rest.slice(0, q);
        }

        url.path = rest;
    }

    function parseRelative(url, rest, base, original) {
        const special = isSpecial(url.protocol);
        const slash = special ? /^[/\\]{2}/ : /^\/\//;

        if (slash.test(rest)) {
            return parseAuthority(url, rest.slice(2), original);
        }

        url.username = base.username;
        url.password = base.password;
        url.host = base.host;
        url.port = base.port;

        splitQuery(url, rest);
        rest = url.path;

        if (rest === '') {
            url.path = base.path.slice();

            if (url.query === null) {
                url.query = base.query;
            }

            return url;
        }

        const path = [];

        if (special ? /^[/\\]/.test(rest) : rest[0] === '/') {
            parsePath(rest.slice(1), special, path, url.protocol);

        } else {
            for (let i = 0; i < base.path.length; i++) {
                path.push(base.path[i]);
            }

            path.pop();
            parsePath(rest, special, path, url.protocol);
        }

        url.path = path;

        return url;
    }

    function parseAuthority(url, rest, original) {
        const special = isSpecial(url.protocol);
        const end = special ? rest.search(/[/\\?]/) : rest.search(/[/?]/);
        let authority = end === -1 ? rest : rest.slice(0, end);

        rest = end === -1 ? '' : rest.slice(end);

        const at = authority.lastIndexOf('@');

        if (at !== -1) {
            const userinfo = authority.slice(0, at);
            const colon = userinfo.indexOf(':');

            authority = authority.slice(at + 1);

            if (colon === -1) {
                url.username = percentEncode(userinfo, userinfoSet);

            } else {
                url.username = percentEncode(userinfo.slice(0, colon),
                                             userinfoSet);
                url.password = percentEncode(userinfo.slice(colon + 1),
                                             userinfoSet);
            }
        }

        let host = authority;
        const pm = /:([^:\]]*)$/.exec(authority);

        if (pm) {
            host = authority.slice(0, pm.index);

            if (pm[1] !== '') {
                if (!/^[0-9]+$/.test(pm[1]) || +pm[1] > 65535) {
                    throw invalidURL(original);
                }

                url.port = '' + +pm[1];

                if (specialPorts[url.protocol] === url.port) {
                    url.port = '';
                }
            }
        }

        if (host === '') {
            if (special && url.protocol !== 'file:') {
                throw invalidURL(original);
            }

            url.host = '';

        } else {
            url.host = parseHost(host, special, original);
        }

        splitQuery(url, rest);
        rest = url.path;

        const path = [];

        if (rest !== '') {
            parsePath(rest.replace(special ? /^[/\\]/ : /^\//, ''), special,
                      path, url.protocol);

        } else if (special) {
            path.push('');
        }

        url.path = path;

        return url;
    }

    function serializePath(url) {
        if (typeof url.path === 'string') {
            return url.path;
        }

        let out = '';

        if (url.host === null && url.path.length > 1 && url.path[0] === '')
        {
            out += '/.';
        }

        for (let i = 0; i < url.path.length; i++) {
            out += '/' + url.path[i];
        }

        return out;
    }

    function serializeURL(url, excludeFragment) {
        let out = url.protocol;

        if (url.host !== null) {
            out += '//';

            if (url.username !== '' || url.password !== '') {
                out += url.username;

                if (url.password !== '') {
                    out += ':' + url.password;
                }

                out += '@';
            }

            out += url.host;

            if (url.port !== '') {
                out += ':' + url.port;
            }
        }

        out += serializePath(url);

        if (url.query !== null) {
            out += '?' + url.query;
        }

        if (!excludeFragment && url.fragment !== null) {
            out += '#' + url.fragment;
        }

        return out;
    }

    function formEncode(str) {
        let out = '';
        const bytes = encoder.encode(str);

        for (let i = 0; i < bytes.length; i++) {
            const b = bytes[i];

            if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a)
                || (b >= 0x61 && b <= 0x7a) || b === 0x2a || b === 0x2d
                || b === 0x2e || b === 0x5f)
            {
                out += StringFromCharCode(b);

            } else if (b === 0x20) {
                out += '+';

            } else {
                out += '%' + hex2(b);
            }
        }

        return out;
    }

    function formDecode(str) {
        return percentDecode(str.replace(/\+/g, ' '));
    }

    function parseForm(query) {
        const list = [];

        if (query === '' || query === null) {
            return list;
        }

        const parts = query.split('&');

        for (let i = 0; i < parts.length; i++) {
            if (parts[i] === '') {
                continue;
            }

            const eq = parts[i].indexOf('=');
            const name = eq === -1 ? parts[i] : parts[i].slice(0, eq);
            const value = eq === -1 ? '' : parts[i].slice(eq + 1);

            list.push([formDecode(name), formDecode(value)]);
        }

        return list;
    }

    class URLSearchParams {
        #list;
        #url;

        constructor(init) {
            this.#list = [];
            this.#url = null;

            if (init === undefined || init === null) {
                return;
            }

            if (typeof init === 'object' || typeof init === 'function') {
                if (typeof init[SymbolIterator] === 'function') {
                    for (const pair of init) {
                        const p = [...pair];

                        if (p.length !== 2) {
                            throw new TypeError('URLSearchParams: each pair '
                                                + 'needs a name and a '
                                                + 'value');
                        }

                        this.#list.push(['' + p[0], '' + p[1]]);
                    }

                } else {
                    const keys = ObjectKeys(init);

                    for (let i = 0; i < keys.length; i++) {
                        this.#list.push([keys[i], '' + init[keys[i]]]);
                    }
                }

                return;
            }

            init = '' + init;

            if (init[0] === '?') {
                init = init.slice(1);
            }

            this.#list = parseForm(init);
        }

        static _attach(params, url, query) {
            params.#url = url;
            params.#list = parseForm(query);
        }

        static _reset(params, query) {
            params.#list = parseForm(query);
        }

        #update() {
            if (this.#url !== null) {
                urlSetQuery(this.#url, this.toString());
            }
        }

        get size() {
            return this.#list.length;
        }

        append(name, value) {
            this.#list.push(['' + name, '' + value]);
            this.#update();
        }

        delete(name, value) {
            name = '' + name;
            this.#list = this.#list.filter(function (p) {
                return p[0] !== name
                       || (value !== undefined && p[1] !== '' + value);
            });
            this.#update();
        }

        get(name) {
            name = '' + name;

            for (let i = 0; i < this.#list.length; i++) {
                if (this.#list[i][0] === name) {
                    return this.#list[i][1];
                }
            }

            return null;
        }

        getAll(name) {
            name = '' + name;

            return this.#list.filter(function (p) { return p[0] === name; })
                             .map(function (p) { return p[1]; });
        }

        has(name, value) {
            name = '' + name;

            return this.#list.some(function (p) {
                return p[0] === name
                       && (value === undefined || p[1] === '' + value);
            });
        }

        set(name, value) {
            name = '' + name;
            value = '' + value;

            let found = false;

            this.#list = this.#list.filter(function (p) {
                if (p[0] !== name) {
                    return true;
                }

                if (found) {
                    return false;
                }

                found = true;
                p[1] = value;

                return true;
            });

            if (!found) {
                this.#list.push([name, value]);
            }

            this.#update();
        }

        sort() {
            const indexed = this.#list.map(function (p, i) {
                return [p, i];
            });

            indexed.sort(function (a, b) {
                if (a[0][0] < b[0][0]) {
                    return -1;
                }

                if (a[0][0] > b[0][0]) {
                    return 1;
                }

                return a[1] - b[1];
            });

            this.#list = indexed.map(function (e) { return e[0]; });
            this.#update();
        }

        forEach(callback, thisArg) {
            for (let i = 0; i < this.#list.length; i++) {
                call(callback, thisArg, this.#list[i][1], this.#list[i][0],
                     this);
            }
        }

        *entries() {
            for (let i = 0; i < this.#list.length; i++) {
                yield [this.#list[i][0], this.#list[i][1]];
            }
        }

        *keys() {
            for (let i = 0; i < this.#list.length; i++) {
                yield this.#list[i][0];
            }
        }

        *values() {
            for (let i = 0; i < this.#list.length; i++) {
                yield this.#list[i][1];
            }
        }

        [SymbolIterator]() {
            return this.entries();
        }

        toString() {
            return this.#list.map(function (p) {
                return formEncode(p[0]) + '=' + formEncode(p[1]);
            }).join('&');
        }

        get [SymbolToStringTag]() {
            return 'URLSearchParams';
        }
    }

    const attachParams = URLSearchParams._attach;
    const resetParams = URLSearchParams._reset;

    delete URLSearchParams._attach;
    delete URLSearchParams._reset;

    let urlSetQuery;

    class URL {
        #url;
        #params;

        constructor(input, base) {
            let baseRecord;

            if (base !== undefined) {
                baseRecord = parseURL('' + base, undefined);
            }

            this.#url = parseURL('' + input, baseRecord);
            this.#params = new URLSearchParams();
            attachParams(this.#params, this, this.#url.query);
        }

        static canParse(input, base) {
            try {
                new URL(input, base);
                return true;

            } catch (e) {
                return false;
            }
        }

        static _setQuery(url, query) {
            url.#url.query = query === '' ? null : query;
        }

        get href() {
            return serializeURL(this.#url, false);
        }

        set href(value) {
            this.#url = parseURL('' + value, undefined);
            resetParams(this.#params, this.#url.query);
        }

        get origin() {
            const u = this.#url;

            if (u.protocol === 'blob:' && typeof u.path === 'string') {
                try {
                    return new URL(u.path).origin;

                } catch (e) {
                    return 'null';
                }
            }

            if (!isSpecial(u.protocol) || u.protocol === 'file:') {
                return 'null';
            }

            return u.protocol + '//' + u.host + (u.port ? ':' + u.port : '');
        }

        get protocol() {
            return this.#url.protocol;
        }

        set protocol(value) {
            const m = /^([a-zA-Z][a-zA-Z0-9+.-]*)/.exec('' + value);

            if (m && isSpecial(m[1].toLowerCase() + ':')
                     === isSpecial(this.#url.protocol))
            {
                this.#url.protocol = m[1].toLowerCase() + ':';

                if (specialPorts[this.#url.protocol] === this.#url.port) {
                    this.#url.port = '';
                }
            }
        }

        get username() {
            return this.#url.username;
        }

        set username(value) {
            if (this.#url.host !== null && this.#url.host !== '') {
                this.#url.username = percentEncode('' + value, userinfoSet);
            }
        }

        get password() {
            return this.#url.password;
        }

        set password(value) {
            if (this.#url.host !== null && this.#url.host !== '') {
                this.#url.password = percentEncode('' + value, userinfoSet);
            }
        }

        get host() {
            const u = this.#url;

            if (u.host === null) {
                return '';
            }

            return u.port === '' ? u.host : u.host + ':' + u.port;
        }

        set host(value) {
            try {
                const u = parseURL(this.#url.protocol + '//' + value,
                                   undefined);
                this.#url.host = u.host;
                this.#url.port = u.port;

            } catch (e) {
                /* an invalid host leaves the URL as it was */
            }
        }

        get hostname() {
            return this.#url.host === null ? '' : this.#url.host;
        }

        set hostname(value) {
            try {
                const u = parseURL(this.#url.protocol + '//' + value,
                                   undefined);
                this.#url.host = u.host;

            } catch (e) {
                /* an invalid host leaves the URL as it was */
            }
        }

        get port() {
            return this.#url.port;
        }

        set port(value) {
            value = '' + value;

            const m = /^[0-9]*/.exec(value)[0];

            if (value === '') {
                this.#url.port = '';

            } else if (m !== '' && +m <= 65535) {
                this.#url.port = specialPorts[this.#url.protocol] === '' + +m
                                 ? '' : '' + +m;
            }
        }

        get pathname() {
            return serializePath(this.#url);
        }

        set pathname(value) {
            if (typeof this.#url.path === 'string') {
                return;
            }

            const special = isSpecial(this.#url.protocol);
            const path = [];

            value = '' + value;
            parsePath(value.replace(special ? /^[/\\]/ : /^\//, ''),
                      special, path, this.#url.protocol);
            this.#url.path = path;
        }

        get search() {
            const q = this.#url.query;
            return q === null || q === '' ? '' : '?' + q;
        }

        set search(value) {
            value = '' + value;

            if (value[0] === '?') {
                value = value.slice(1);
            }

            this.#url.query = value === ''
                              ? null
                              : percentEncode(value,
                                              isSpecial(this.#url.protocol)
                                              ? specialQuerySet : querySet);
            resetParams(this.#params, this.#url.query);
        }

        get searchParams() {
            return this.#params;
        }

        get hash() {
            const f = this.#url.fragment;
            return f === null || f === '' ? '' : '#' + f;
        }

        set hash(value) {
            value = '' + value;

            if (value[0] === '#') {
                value = value.slice(1);
            }

            this.#url.fragment = value === ''
                                 ? null : percentEncode(value, fragmentSet);
        }

        toString() {
            return this.href;
        }

        toJSON() {
            return this.href;
        }

        get [SymbolToStringTag]() {
            return 'URL';
        }
    }

    urlSetQuery = URL._setQuery;
    delete URL._setQuery;

    return { URL: URL, URLSearchParams: URLSearchParams };
})
