using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Functions.Tests.Invocation;

/// <summary>
/// What the Functions host hands a wrapper, without the host (it cannot run here): a function context whose services
/// carry the app's worker JSON settings (Durable's check-status response writes its payload with them), and HTTP request and
/// response data held in memory. Everything past the wrapper's parameters is the product's real code.
/// </summary>
public sealed class TestFunctionContext : FunctionContext
{
    private static readonly IServiceProvider WorkerServices = new ServiceCollection()
        .Configure<WorkerOptions>(WorkerJson.Configure)
        .BuildServiceProvider();

    public override string InvocationId { get; } = Guid.NewGuid().ToString("N");
    public override string FunctionId => "test";
    public override TraceContext TraceContext => throw new NotSupportedException("no trace context outside the host");
    public override BindingContext BindingContext => throw new NotSupportedException("no binding context outside the host");
    public override RetryContext RetryContext => throw new NotSupportedException("no retry context outside the host");
    public override IServiceProvider InstanceServices { get; set; } = WorkerServices;
    public override FunctionDefinition FunctionDefinition => throw new NotSupportedException("no function definition outside the host");
    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
    public override IInvocationFeatures Features => throw new NotSupportedException("no invocation features outside the host");
}

public sealed class TestHttpRequest : HttpRequestData
{
    private TestHttpRequest(string method, Uri url, Stream body, HttpHeadersCollection headers) : base(new TestFunctionContext())
    {
        Method = method;
        Url = url;
        Body = body;
        Headers = headers;
    }

    public static TestHttpRequest Get(string url) => new("GET", new Uri(url), Stream.Null, []);

    public static TestHttpRequest Post(string url, string body, string contentType = "application/json")
    {
        var headers = new HttpHeadersCollection { { "Content-Type", contentType } };
        return new TestHttpRequest("POST", new Uri(url), new MemoryStream(Encoding.UTF8.GetBytes(body)), headers);
    }

    public override Stream Body { get; }
    public override HttpHeadersCollection Headers { get; }
    public override IReadOnlyCollection<IHttpCookie> Cookies { get; } = [];
    public override Uri Url { get; }
    public override IEnumerable<ClaimsIdentity> Identities { get; } = [];
    public override string Method { get; }
    public override HttpResponseData CreateResponse() => new TestHttpResponse(FunctionContext);
}

public sealed class TestHttpResponse(FunctionContext context) : HttpResponseData(context)
{
    public override HttpStatusCode StatusCode { get; set; } = HttpStatusCode.OK;
    public override HttpHeadersCollection Headers { get; set; } = [];
    public override Stream Body { get; set; } = new MemoryStream();
    public override HttpCookies Cookies { get; } = new NoCookies();

    public string? Header(string name) => Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    public byte[] BodyBytes()
    {
        Body.Position = 0;
        using var copy = new MemoryStream();
        Body.CopyTo(copy);
        return copy.ToArray();
    }

    public string BodyText() => Encoding.UTF8.GetString(BodyBytes());

    private sealed class NoCookies : HttpCookies
    {
        public override void Append(string name, string value) => throw new NotSupportedException("the app sets no cookies");
        public override void Append(IHttpCookie cookie) => throw new NotSupportedException("the app sets no cookies");
        public override IHttpCookie CreateNew() => throw new NotSupportedException("the app sets no cookies");
    }
}
