// The slow server of bench/workflows.sh: each request is answered 200
// after one second.

function answer(r) {
    setTimeout(function () {
        r.return(200, 'late\n');
    }, 1000);
}

export default { answer };
